-- Serialises migration runs until the caller's transaction ends.
select pg_advisory_xact_lock(%(lock_id)s)
