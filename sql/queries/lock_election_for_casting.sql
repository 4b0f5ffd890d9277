-- Held until the casting transaction commits: a closed election's last groups of ballots
-- are counted only once no ballot is still being taken in (lock_closed_elections).
select pg_advisory_xact_lock_shared(hashtextextended('tallyflow-cast:' || %(election_id)s, 0))
