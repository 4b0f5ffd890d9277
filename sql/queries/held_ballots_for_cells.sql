-- The ballots waiting for their group in the given cells (election × region), and every
-- waiting ballot of the elections whose last groups are counted now: the pool a batch adds
-- its new ballots of those cells to.
select
    held_ballots.partition,
    held_ballots.kafka_offset as "offset",
    held_ballots.election_id,
    held_ballots.voter_id,
    held_ballots.region_id,
    held_ballots.age_band,
    held_ballots.gender,
    held_ballots.judged_at,
    held_ballots.broker_timestamp,
    held_ballots.receipt,
    held_ballots.party_id,
    held_ballots.vote_method,
    held_ballots.selections::text as selections,
    held_ballots.marks::text as marks
from held_ballots
where
    (held_ballots.election_id, held_ballots.region_id) in (
        select
            cells.election_id,
            cells.region_id
        from unnest(%(election_ids)s::text[], %(region_ids)s::text[])
            as cells (election_id, region_id)
    )
    or held_ballots.election_id = any(%(final_election_ids)s::text[])
