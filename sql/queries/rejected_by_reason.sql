-- An election's rejected events, counted by reason.
select
    reason,
    count(*) as n
from rejected_events
where election_id = %(election_id)s
group by reason
