-- The recount's counts per vote method over every precinct: each option's votes
-- (option_method cells: contest/option/precinct/method) and each contest's ballots
-- (contest_method cells: contest/precinct/method; option_id null).
with method_cells as (
    select
        metric,
        string_to_array(item, '/') as parts,
        value
    from recount_cells
    where election_id = %(election_id)s and metric in ('option_method', 'contest_method')
)

select
    parts[1] as contest_id,
    case when metric = 'option_method' then parts[2] end as option_id,
    parts[array_length(parts, 1)] as vote_method,
    sum(value) as n
from method_cells
group by 1, 2, 3
order by 1, 2, 3
