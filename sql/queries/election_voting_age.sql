-- The voting age an election's roll is checked against.
select voting_age
from elections
where election_id = %(election_id)s
