-- The election's latest verdict; returns the one it replaces (null the first time).
with earlier as (
    select status from result_quality
    where election_id = %(election_id)s
)

insert into result_quality as quality (
    election_id, status, checked_at, validation_run_id, failures
)
values (
    %(election_id)s, %(status)s, now(), %(validation_run_id)s, %(failures)s
)
on conflict (election_id) do update
    set
        status = excluded.status,
        checked_at = excluded.checked_at,
        validation_run_id = excluded.validation_run_id,
        failures = excluded.failures
returning (select status from earlier) as previous_status
