-- Each voter of an election's roll and the precinct they vote in.
select
    voter_id,
    region_id
from voters
where election_id = %(election_id)s
