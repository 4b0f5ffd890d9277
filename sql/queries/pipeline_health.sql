-- The tally's latest batch on one topic, with how long ago it committed.
select
    last_batch_at,
    extract(epoch from now() - last_batch_at)::float8 as seconds_ago,
    batch_events,
    batch_accepted,
    batch_rejected,
    batch_duration_ms,
    consumer_lag,
    freshness_ms
from pipeline_health
where topic = %(topic)s
