-- Each option's votes per vote method over every precinct (ranked contests are left out:
-- a mention at any rank is not a vote).
select
    option_method_totals.contest_id,
    option_method_totals.option_id,
    option_method_totals.vote_method,
    sum(option_method_totals.votes) as votes
from option_method_totals
inner join contests
    on
        contests.election_id = option_method_totals.election_id
        and contests.contest_id = option_method_totals.contest_id
where option_method_totals.election_id = %(election_id)s and contests.kind <> 'ranked'
group by
    option_method_totals.contest_id,
    option_method_totals.option_id,
    option_method_totals.vote_method
