-- The tally's session lock: only one tally runs at a time (false when another holds it).
select pg_try_advisory_lock(%(lock_id)s)
