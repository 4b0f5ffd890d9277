-- How often the tally re-based onto a replaced log, and the latest time (status and site).
select
    count(*) as log_resets,
    max(detected_at) as last_log_reset_at,
    (array_agg(reason order by log_reset_id desc))[1] as last_log_reset_reason
from log_resets
where topic = %(topic)s
