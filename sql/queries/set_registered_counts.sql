-- Registered voters per region, counted from the roll and summed up the region tree.
with roll_counts as (
    select
        region_id,
        count(*) as voter_count
    from voters
    where election_id = %(election_id)s
    group by region_id
),

region_totals as (
    select
        region_ancestry.ancestor_id as region_id,
        coalesce(sum(roll_counts.voter_count), 0) as registered_voters
    from region_ancestry
    left join roll_counts on roll_counts.region_id = region_ancestry.region_id
    where region_ancestry.election_id = %(election_id)s
    group by region_ancestry.ancestor_id
)

update regions
set registered_voters = region_totals.registered_voters
from region_totals
where
    regions.election_id = %(election_id)s
    and regions.region_id = region_totals.region_id
