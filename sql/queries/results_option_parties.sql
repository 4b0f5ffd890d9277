-- Each option's party id (none for an option without a party).
select
    contest_id,
    option_id,
    party_id
from contest_options
where election_id = %(election_id)s
