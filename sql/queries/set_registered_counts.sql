-- Registered voters per region, counted from the roll and summed up the region tree.
-- Counts a registrar already supplied are kept unless overwrite is set (seeding).
with recursive ancestry as (
    select
        region_id as ancestor_id,
        region_id
    from regions
    where election_id = %(election_id)s

    union all

    select
        regions.parent_region_id as ancestor_id,
        ancestry.region_id
    from ancestry
    inner join regions
        on regions.election_id = %(election_id)s and regions.region_id = ancestry.ancestor_id
    where regions.parent_region_id is not null
),

roll_counts as (
    select
        region_id,
        count(*) as voter_count
    from voters
    where election_id = %(election_id)s
    group by region_id
),

region_totals as (
    select
        ancestry.ancestor_id as region_id,
        coalesce(sum(roll_counts.voter_count), 0) as registered_voters
    from ancestry
    left join roll_counts on roll_counts.region_id = ancestry.region_id
    group by ancestry.ancestor_id
)

update regions
set registered_voters = region_totals.registered_voters
from region_totals
where
    regions.election_id = %(election_id)s
    and regions.region_id = region_totals.region_id
    and (%(overwrite)s or regions.registered_voters is null)
