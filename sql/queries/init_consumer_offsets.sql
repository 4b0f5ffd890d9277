insert into consumer_offsets (topic, partition, next_offset)
values %s
on conflict (topic, partition) do nothing
