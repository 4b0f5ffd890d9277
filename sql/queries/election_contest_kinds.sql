-- An election's contests and their kinds, in ballot order.
select
    contest_id,
    kind
from contests
where election_id = %(election_id)s
order by ballot_order
