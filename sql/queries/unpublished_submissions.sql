-- Outbox events to publish: lost by the broker (acknowledged before, publish_attempts > 0),
-- or never acknowledged and received more than a moment ago, so the API's own publish is
-- not raced.
select
    event_id,
    payload
from submissions
where
    topic = %(topic)s
    and settled_at is null
    and published_partition is null
    and payload is not null
    and (
        publish_attempts > 0
        or received_at < now() - make_interval(secs => %(grace_seconds)s)
    )
order by received_at
limit %(limit)s
