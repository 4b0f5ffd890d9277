-- Every election, with what the tally judges an event's time against (a few rows).
select election_id, status, opens_at, closes_at
from elections
