-- The tally's latest batch on one topic, with how long ago it committed.
select
    last_batch_at,
    extract(epoch from now() - last_batch_at)::float8 as seconds_ago,
    batch_events,
    batch_accepted,
    batch_rejected,
    batch_duration_ms,
    consumer_lag,
    freshness_ms,
    (
        select count(*) from log_resets
        where log_resets.topic = pipeline_health.topic)
        as log_resets,
    (
        select max(detected_at) from log_resets
        where log_resets.topic = pipeline_health.topic)
        as last_log_reset_at
from pipeline_health
where topic = %(topic)s
