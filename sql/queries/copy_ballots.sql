copy ballots (election_id, region_id, cast_window, selections)
from stdin with (format csv)
