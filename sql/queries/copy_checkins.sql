copy checkins (election_id, voter_id, region_id, checked_in_at) from stdin with (format csv)
