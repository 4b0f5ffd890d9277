-- Outbox events the broker has not acknowledged yet (left to the API's own publish, or not
-- taken by the broker): a drain waits for them instead of stopping before they are tallied.
select count(*)
from submissions
where
    topic = %(topic)s
    and settled_at is null
    and published_partition is null
    and payload is not null
