-- Outbox events the relay left to the API's own publish (received within the grace period,
-- never acknowledged): a drain waits for them instead of stopping before they are tallied.
select count(*)
from submissions
where
    topic = %(topic)s
    and settled_at is null
    and published_partition is null
    and payload is not null
    and publish_attempts = 0
    and received_at >= now() - make_interval(secs => %(grace_seconds)s)
