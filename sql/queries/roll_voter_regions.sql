-- Each voter of an election's roll with their ballot style: the precinct they vote in and
-- their party affiliation (null: none).
select
    voter_id,
    region_id,
    party_id
from voters
where election_id = %(election_id)s
