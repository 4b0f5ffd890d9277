select
    reason,
    events
from rejected_totals
where election_id = %(election_id)s
order by events desc, reason
