-- One election's stored ballots beside its check-ins, per region and in all (both from the
-- recount), and the counted events the tally recorded beside the check-ins.
with recounted as (
    select
        item as region_id,
        coalesce(sum(value) filter (where metric = 'ballots'), 0) as ballots,
        coalesce(sum(value) filter (where metric = 'turnout'), 0) as checkins
    from recount_cells
    where election_id = %(election_id)s and metric in ('ballots', 'turnout')
    group by item
)

select
    region_id,
    ballots,
    checkins
from recounted
union all
select
    'all regions',
    coalesce(sum(ballots), 0),
    coalesce(sum(checkins), 0)
from recounted
union all
select
    'events the tally counted',
    (
        select coalesce(sum(accepted), 0)
        from partition_accepted_totals
        where election_id = %(election_id)s
    ),
    (
        select count(*) from checkins
        where election_id = %(election_id)s
    )
order by region_id
