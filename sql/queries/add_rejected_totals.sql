insert into rejected_totals as totals (election_id, reason, events)
values %s
on conflict (election_id, reason)
do update set events = totals.events + excluded.events
