-- The leading option of one contest in every precinct where it has votes (a tie goes to the
-- first option id).
select distinct on (region_id)
    region_id,
    option_id as leader_option_id
from option_region_totals
where election_id = %(election_id)s and contest_id = %(contest_id)s and votes > 0
order by region_id, votes desc, option_id
