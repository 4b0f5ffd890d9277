-- Each ranked contest's rounds over the rankings counted so far (the tally runs them).
select
    contest_id,
    ballots,
    rankings,
    rounds
from ranked_rounds
where election_id = %(election_id)s
