-- A batch's ballots per distinct ranking of a ranked contest, per precinct.
insert into ranking_totals as totals (election_id, contest_id, region_id, ranking, ballots)
values %s
on conflict (election_id, contest_id, region_id, ranking)
do update set ballots = totals.ballots + excluded.ballots
