-- The parties of one election.
select
    party_id,
    name,
    abbreviation,
    colour
from parties
where election_id = %(election_id)s
order by party_id
