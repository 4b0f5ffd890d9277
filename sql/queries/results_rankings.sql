-- Each ranked contest's ballots per distinct ranking (summed over precincts), for the live
-- round-by-round result.
select
    contest_id,
    ranking,
    ballots
from ranking_contest_totals
where election_id = %(election_id)s
