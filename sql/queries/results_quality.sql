-- The latest data-quality verdict on one election's results, with its report.
select
    result_quality.status,
    result_quality.checked_at,
    result_quality.failures,
    validation_runs.report_url
from result_quality
left join validation_runs
    on validation_runs.validation_run_id = result_quality.validation_run_id
where result_quality.election_id = %(election_id)s
