-- After the broker's log was replaced, no unsettled outbox event can be trusted to be in it:
-- the relay publishes each of them again (a copy already counted is rejected as a duplicate).
update submissions
set published_partition = null, published_offset = null
where topic = %(topic)s and settled_at is null and published_partition is not null
