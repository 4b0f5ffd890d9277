-- Every result cell of one election, live aggregate beside recount, in the recount's terms.
with live_cells as (
    select
        metric,
        item,
        value
    from aggregate_cells
    where election_id = %(election_id)s and metric <> 'rejected'
),

recounted as (
    select
        metric,
        item,
        value
    from recount_cells
    where election_id = %(election_id)s and metric <> 'ballots'
)

select
    coalesce(live_cells.metric, recounted.metric) as metric,
    coalesce(live_cells.item, recounted.item) as item,
    coalesce(live_cells.value, 0) as live,
    coalesce(recounted.value, 0) as recount
from live_cells
full join recounted
    on recounted.metric = live_cells.metric and recounted.item = live_cells.item
-- a zero cell on one side and no cell on the other agree
where coalesce(live_cells.value, 0) <> 0 or coalesce(recounted.value, 0) <> 0
order by metric, item
