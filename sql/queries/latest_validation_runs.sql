-- The latest run of each suite for one election.
select distinct on (suite_name)
    suite_name,
    validated_at,
    is_passed,
    evaluated_expectations,
    failed_expectations,
    warned_expectations,
    row_count,
    failures,
    report_url
from validation_runs
where election_id = %(election_id)s
order by suite_name, validated_at desc
