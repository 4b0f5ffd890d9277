-- Per partition: the epoch of the log the committed offset belongs to, and the topic id the
-- broker reported when that epoch began.
select
    partition,
    log_epoch,
    topic_id
from consumer_offsets
where topic = %(topic)s
