insert into turnout_by_method as totals (election_id, region_id, vote_method, ballots)
values %s
on conflict (election_id, region_id, vote_method)
do update set ballots = totals.ballots + excluded.ballots
