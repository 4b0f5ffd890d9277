insert into ballots_per_minute as totals (election_id, minute, ballots)
values %s
on conflict (election_id, minute)
do update set ballots = totals.ballots + excluded.ballots
