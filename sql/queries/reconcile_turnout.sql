-- Per region of one election (every level): registered voters beside recounted turnout.
select
    region_roll_counts.region_id,
    region_roll_counts.roll_count as registered,
    coalesce(sum(recount_cells.value), 0) as ballots
from region_roll_counts
inner join region_ancestry
    on
        region_ancestry.election_id = region_roll_counts.election_id
        and region_ancestry.ancestor_id = region_roll_counts.region_id
left join recount_cells
    on
        recount_cells.election_id = region_ancestry.election_id
        and recount_cells.metric = 'turnout'
        and recount_cells.item = region_ancestry.region_id
where region_roll_counts.election_id = %(election_id)s
group by region_roll_counts.region_id, region_roll_counts.roll_count
order by region_roll_counts.region_id
