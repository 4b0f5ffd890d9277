-- Regions with no sub-regions: where voters are registered.
select regions.region_id, regions.population
from regions
where
    regions.election_id = %(election_id)s
    and not exists (
        select 1
        from regions as children
        where
            children.election_id = regions.election_id
            and children.parent_region_id = regions.region_id
    )
order by regions.region_id
