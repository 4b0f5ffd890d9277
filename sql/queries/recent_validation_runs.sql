-- The latest validation runs across the platform, newest first.
select
    validated_at,
    election_id,
    suite_name,
    is_passed,
    evaluated_expectations,
    failed_expectations,
    report_url
from validation_runs
order by validated_at desc, validation_run_id desc
limit %(limit)s
