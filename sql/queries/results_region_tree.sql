-- Every region of one election with its parent (the tree the precincts roll up into).
select
    region_id,
    name,
    level,
    parent_region_id
from regions
where election_id = %(election_id)s
order by region_id
