select
    status,
    opens_at,
    voting_age
from elections
where election_id = %(election_id)s
