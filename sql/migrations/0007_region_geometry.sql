-- A region's boundary, when the election definition gives one (GeoJSON geometry): the
-- results map draws precincts from it instead of tiles.
alter table regions add column if not exists geometry jsonb;
