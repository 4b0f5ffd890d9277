-- Held ballots whose group this transaction counts (their ballots and check-ins are
-- written beside).
delete from held_ballots
using unnest(%(election_ids)s::text[], %(voter_ids)s::text[]) as counted (election_id, voter_id)
where
    held_ballots.election_id = counted.election_id
    and held_ballots.voter_id = counted.voter_id
