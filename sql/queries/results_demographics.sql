select
    age_band,
    gender,
    ballots
from turnout_by_demographic
where election_id = %(election_id)s
order by age_band, gender
