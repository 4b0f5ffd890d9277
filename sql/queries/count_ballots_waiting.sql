-- The election-wide count of ballots waiting for their group, for each election a batch
-- held or counted ballots of.
insert into ballots_waiting (election_id, ballots, updated_at)
select
    touched.election_id,
    count(held_ballots.voter_id) as ballots,
    clock_timestamp() as updated_at
from unnest(%(election_ids)s::text[]) as touched (election_id)
left join held_ballots on touched.election_id = held_ballots.election_id
group by touched.election_id
on conflict (election_id) do update
    set
        ballots = excluded.ballots,
        updated_at = excluded.updated_at
