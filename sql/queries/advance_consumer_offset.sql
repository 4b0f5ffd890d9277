-- Moves one partition's offset on only from where this batch started; no row means another
-- batch committed first, and this one must not.
update consumer_offsets
set next_offset = %(next_offset)s, updated_at = now()
where
    topic = %(topic)s
    and partition = %(partition)s
    and next_offset = %(start_offset)s
    and log_epoch = %(log_epoch)s
    and %(next_offset)s >= next_offset
returning partition
