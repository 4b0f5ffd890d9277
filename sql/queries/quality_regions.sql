-- One row per region: its stored and expected counts beside the voters the roll has below it.
select
    regions.region_id,
    regions.name,
    regions.level,
    regions.parent_region_id,
    regions.expected_voters,
    regions.registered_voters,
    region_roll_counts.roll_count
from regions
left join region_roll_counts
    on
        region_roll_counts.election_id = regions.election_id
        and region_roll_counts.region_id = regions.region_id
where regions.election_id = %(election_id)s
order by regions.region_id
