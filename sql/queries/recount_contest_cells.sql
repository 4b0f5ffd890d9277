-- The recount's per-contest cells (ballots, blank, under- and overvoted) for tabulation.
select
    metric,
    item,
    value
from recount_cells
where election_id = %(election_id)s and starts_with(metric, 'contest_')
