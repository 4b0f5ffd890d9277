-- How many voters an election's roll holds.
select count(*) as n
from voters
where election_id = %(election_id)s
