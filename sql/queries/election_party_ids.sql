-- Every party of an election.
select party_id
from parties
where election_id = %(election_id)s
