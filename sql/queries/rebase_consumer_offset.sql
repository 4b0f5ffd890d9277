-- The partition's log was replaced (or cut): start a new epoch at new_start. What was read
-- of the old log stays counted in consumed_before, less the offsets this epoch skips, so
-- consumed_before + next_offset is every event the tally ever read of the partition.
update consumer_offsets
set
    consumed_before = consumed_before + next_offset - %(new_start)s,
    next_offset = %(new_start)s,
    log_epoch = log_epoch + 1,
    topic_id = %(topic_id)s,
    updated_at = now()
where
    topic = %(topic)s
    and partition = %(partition)s
    and log_epoch = %(log_epoch)s
returning log_epoch
