-- Each option's votes per vote method over the whole election (ranked contests are left
-- out: a mention at any rank is not a vote).
select
    option_vote_method_totals.contest_id,
    option_vote_method_totals.option_id,
    option_vote_method_totals.vote_method,
    option_vote_method_totals.votes
from option_vote_method_totals
inner join contests
    on
        contests.election_id = option_vote_method_totals.election_id
        and contests.contest_id = option_vote_method_totals.contest_id
where option_vote_method_totals.election_id = %(election_id)s and contests.kind <> 'ranked'
