-- The recount's turnout cells, by region and by age band and gender.
select
    metric,
    item,
    value
from recount_cells
where election_id = %(election_id)s and metric in ('turnout', 'demographic')
