-- Registered voters per region, counted from the roll and summed up the region tree.
update regions
set registered_voters = region_roll_counts.roll_count
from region_roll_counts
where
    regions.election_id = %(election_id)s
    and region_roll_counts.election_id = %(election_id)s
    and regions.region_id = region_roll_counts.region_id
