-- The broker acknowledged an outbox event at this partition and offset.
update submissions
set
    published_partition = %(partition)s,
    published_offset = %(offset)s,
    published_at = now(),
    publish_attempts = publish_attempts + 1
where event_id = %(event_id)s and settled_at is null
