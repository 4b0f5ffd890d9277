insert into validation_runs (
    election_id,
    suite_name,
    is_passed,
    evaluated_expectations,
    failed_expectations,
    warned_expectations,
    row_count,
    failures,
    report_url
)
values (
    %(election_id)s,
    %(suite_name)s,
    %(is_passed)s,
    %(evaluated_expectations)s,
    %(failed_expectations)s,
    %(warned_expectations)s,
    %(row_count)s,
    %(failures)s,
    %(report_url)s
)
returning validation_run_id
