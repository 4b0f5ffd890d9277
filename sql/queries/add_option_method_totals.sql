insert into option_method_totals as totals (
    election_id, contest_id, option_id, region_id, vote_method, votes
)
values %s
on conflict (election_id, contest_id, option_id, region_id, vote_method)
do update set votes = totals.votes + excluded.votes
