select election_id, status, opens_at, closes_at
from elections
where election_id = any(%(election_ids)s)
