-- Each contest's ballots in each precinct per vote method: what the small-cell rule judges
-- a contest's precinct and vote-method cells by.
select
    contest_id,
    region_id,
    vote_method,
    ballots
from contest_method_totals
where election_id = %(election_id)s
