-- Cumulative ballots counted, minute by minute.
select
    minute,
    sum(ballots) over (order by minute) as cumulative_ballots
from ballots_per_minute
where election_id = %(election_id)s
order by minute
