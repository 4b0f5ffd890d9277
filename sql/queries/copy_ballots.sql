copy ballots (election_id, region_id, selections)
from stdin with (format csv)
