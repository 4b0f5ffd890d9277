copy ballots (election_id, region_id, party_id, vote_method, selections)
from stdin with (format csv)
