-- The voter ids already on an election's roll.
select voter_id
from voters
where election_id = %(election_id)s
