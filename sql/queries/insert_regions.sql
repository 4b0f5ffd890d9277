insert into regions (
    election_id, region_id, name, level, parent_region_id, population, expected_voters,
    geometry
)
values %s
