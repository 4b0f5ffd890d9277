-- The counts of a state that passed every check: the baseline the next check compares to.
insert into aggregate_snapshots as snapshots (election_id, metric, item, value)
values %s
on conflict (election_id, metric, item)
do update set value = excluded.value
