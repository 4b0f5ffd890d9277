-- One ranked contest's ballots per distinct ranking (summed over precincts).
select
    ranking,
    ballots
from ranking_contest_totals
where election_id = %(election_id)s and contest_id = %(contest_id)s
