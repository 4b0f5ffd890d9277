insert into turnout_by_region as totals (election_id, region_id, ballots)
values %s
on conflict (election_id, region_id)
do update set ballots = totals.ballots + excluded.ballots
