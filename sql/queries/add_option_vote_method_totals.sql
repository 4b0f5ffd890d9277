insert into option_vote_method_totals as totals (
    election_id, contest_id, option_id, vote_method, votes
)
values %s
on conflict (election_id, contest_id, option_id, vote_method)
do update set votes = totals.votes + excluded.votes
