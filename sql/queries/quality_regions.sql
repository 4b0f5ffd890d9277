-- One row per region: its stored and expected counts beside the voters the roll has below it.
with roll_counts as (
    select
        region_id,
        count(*) as voter_count
    from voters
    where election_id = %(election_id)s
    group by region_id
),

region_roll_counts as (
    select
        region_ancestry.ancestor_id as region_id,
        coalesce(sum(roll_counts.voter_count), 0)::integer as roll_count
    from region_ancestry
    left join roll_counts on roll_counts.region_id = region_ancestry.region_id
    where region_ancestry.election_id = %(election_id)s
    group by region_ancestry.ancestor_id
)

select
    regions.region_id,
    regions.name,
    regions.level,
    regions.parent_region_id,
    regions.expected_voters,
    regions.registered_voters,
    region_roll_counts.roll_count
from regions
left join region_roll_counts on region_roll_counts.region_id = regions.region_id
where regions.election_id = %(election_id)s
order by regions.region_id
