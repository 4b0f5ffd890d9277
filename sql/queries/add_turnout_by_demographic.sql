insert into turnout_by_demographic as totals (election_id, age_band, gender, ballots)
values %s
on conflict (election_id, age_band, gender)
do update set ballots = totals.ballots + excluded.ballots
