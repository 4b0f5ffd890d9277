-- The recount's ranked-contest cells: ballots per distinct ranking per precinct
-- (item: contest/region/ranking as JSON).
select
    item,
    value
from recount_cells
where election_id = %(election_id)s and metric = 'ranking'
