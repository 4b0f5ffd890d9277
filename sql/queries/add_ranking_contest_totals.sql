-- A batch's ballots per distinct ranking of a ranked contest, summed over precincts.
insert into ranking_contest_totals as totals (election_id, contest_id, ranking, ballots)
values %s
on conflict (election_id, contest_id, ranking)
do update set ballots = totals.ballots + excluded.ballots
