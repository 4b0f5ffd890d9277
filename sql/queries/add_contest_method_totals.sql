insert into contest_method_totals as totals (
    election_id, contest_id, region_id, vote_method, ballots
)
values %s
on conflict (election_id, contest_id, region_id, vote_method)
do update set ballots = totals.ballots + excluded.ballots
