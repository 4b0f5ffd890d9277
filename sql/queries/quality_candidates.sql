select
    contest_id,
    option_id,
    name,
    party_id,
    ballot_order
from contest_options
where election_id = %(election_id)s
order by contest_id, ballot_order
