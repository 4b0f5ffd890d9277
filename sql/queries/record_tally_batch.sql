insert into tally_batches (
    topic, started_at, events, accepted, rejected, duration_ms, offsets, newest_event_at,
    consumer_lag, freshness_ms
)
values (
    %(topic)s, %(started_at)s, %(events)s, %(accepted)s, %(rejected)s, %(duration_ms)s, %(offsets)s,
    %(newest_event_at)s, %(consumer_lag)s,
    -- the longest any event of the batch waited, from the broker to this commit
    (extract(epoch from clock_timestamp() - %(oldest_event_at)s::timestamptz) * 1000)::integer
)
