insert into option_region_totals as totals (election_id, contest_id, option_id, region_id, votes)
values %s
on conflict (election_id, contest_id, option_id, region_id)
do update set votes = totals.votes + excluded.votes
