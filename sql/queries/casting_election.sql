select
    status,
    opens_at,
    closes_at
from elections
where election_id = %(election_id)s
