-- An election's roll by ballot style: how many voters each precinct has of each party
-- affiliation (null: none).
select
    region_id,
    party_id,
    count(*)::integer as voters
from voters
where election_id = %(election_id)s
group by region_id, party_id
