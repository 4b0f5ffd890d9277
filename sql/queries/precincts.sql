-- Regions with no sub-regions: where voters are registered.
select
    region_id,
    population
from precinct_regions
where election_id = %(election_id)s
order by region_id
