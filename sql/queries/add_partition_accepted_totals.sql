insert into partition_accepted_totals as totals (topic, partition, election_id, accepted)
values %s
on conflict (topic, partition, election_id)
do update set accepted = totals.accepted + excluded.accepted
