-- Waits for every casting transaction still taking a ballot of a closed election with
-- ballots waiting for their group (each holds its election's lock shared:
-- lock_election_for_casting), so that the check after this one sees every receipted
-- ballot such an election will ever get.
select pg_advisory_xact_lock(hashtextextended('tallyflow-cast:' || elections.election_id, 0))
from elections
where
    elections.status = 'closed'
    and exists (
        select from held_ballots
        where held_ballots.election_id = elections.election_id
    )
