-- Each contest's ballots (of the voters whose ballot carries it) per vote method over
-- every precinct.
select
    contest_id,
    vote_method,
    sum(ballots) as ballots
from contest_method_totals
where election_id = %(election_id)s
group by contest_id, vote_method
