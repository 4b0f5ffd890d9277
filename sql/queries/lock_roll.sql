-- Serialises every change to one election's roll until the caller's transaction ends.
select pg_advisory_xact_lock(hashtext('roll:' || %(election_id)s))
