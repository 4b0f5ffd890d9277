-- Every aggregate count of one election now, beside what it stood at when last checked.
with current_counts as (
    select
        metric,
        item,
        value
    from aggregate_cells
    where election_id = %(election_id)s
),

previous as (
    select
        metric,
        item,
        value
    from aggregate_snapshots
    where election_id = %(election_id)s
)

select
    coalesce(current_counts.metric, previous.metric) as metric,
    coalesce(current_counts.item, previous.item) as item,
    coalesce(current_counts.value, 0) as current_value,
    coalesce(previous.value, 0) as previous_value
from current_counts
full join previous
    on previous.metric = current_counts.metric and previous.item = current_counts.item
order by metric, item
