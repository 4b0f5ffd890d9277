-- Registration checks keep counts, never sample rows: validation_runs is read by the
-- public site, and a failing voters check used to keep names and birth dates as examples
-- ("..., e.g. (ann lee, 1980-01-01, east)"). Remove them from the runs already recorded.
update validation_runs
set failures = (
    select coalesce(jsonb_agg(
        failure
        || jsonb_build_object(
            'sample', '[]'::jsonb,
            'summary', regexp_replace(failure ->> 'summary', ', e\.g\. .*$', '')
        )
        order by ordinality
    ), '[]'::jsonb)
    from jsonb_array_elements(validation_runs.failures) with ordinality as f (failure, ordinality)
)
where suite_name in ('parties', 'candidates', 'regions', 'voters')
    and failures <> '[]'::jsonb;
