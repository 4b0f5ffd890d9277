select count(*) as ballots
from held_ballots
where election_id = %(election_id)s
