insert into option_totals as totals (election_id, contest_id, option_id, votes)
values %s
on conflict (election_id, contest_id, option_id)
do update set votes = totals.votes + excluded.votes
