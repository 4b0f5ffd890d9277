-- Turnout per region against its registered voters.
select
    regions.region_id,
    regions.registered_voters as registered,
    coalesce(turnout.ballots, 0) as ballots
from regions
left join turnout_by_region as turnout
    on turnout.election_id = regions.election_id and turnout.region_id = regions.region_id
where regions.election_id = %(election_id)s and regions.registered_voters is not null
order by regions.region_id
