-- The parties of one election (the registration checks and the results feeds read them).
select
    party_id,
    name,
    abbreviation,
    colour
from parties
where election_id = %(election_id)s
order by party_id
