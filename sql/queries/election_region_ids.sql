-- Every region of an election, precincts and the areas above them.
select region_id
from regions
where election_id = %(election_id)s
