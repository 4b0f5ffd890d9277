copy checkins (election_id, voter_id, region_id, checked_in_at, receipt)
from stdin with (format csv)
