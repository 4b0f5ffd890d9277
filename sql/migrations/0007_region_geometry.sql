-- A region's boundary, when the election definition gives one (GeoJSON geometry): the
-- results map draws precincts from it instead of tiles.
alter table regions add column if not exists geometry jsonb;

-- Regions with no region below them: the precincts, where voters are registered.
create or replace view precinct_regions as
select regions.*
from regions
where not exists (
    select 1
    from regions as children
    where
        children.election_id = regions.election_id
        and children.parent_region_id = regions.region_id
);

grant select on precinct_regions to tallyflow_site;
