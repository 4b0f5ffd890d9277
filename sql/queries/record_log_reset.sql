insert into log_resets (topic, partition, old_epoch, old_next_offset, new_end_offset, reason)
values (%(topic)s, %(partition)s, %(log_epoch)s, %(old_next_offset)s, %(new_end)s, %(reason)s)
