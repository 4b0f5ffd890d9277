-- Whether an election is a test election (its credentials may be written to disk).
select is_test
from elections
where election_id = %(election_id)s
