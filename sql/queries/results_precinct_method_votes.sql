-- Each option's votes in each precinct per vote method (ranked contests are left out, as
-- in results_precinct_votes).
select
    option_method_totals.contest_id,
    option_method_totals.option_id,
    option_method_totals.region_id,
    option_method_totals.vote_method,
    option_method_totals.votes
from option_method_totals
inner join contests
    on
        contests.election_id = option_method_totals.election_id
        and contests.contest_id = option_method_totals.contest_id
where option_method_totals.election_id = %(election_id)s and contests.kind <> 'ranked'
