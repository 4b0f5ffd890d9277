-- When the casting API took each of these events in: the time its ballot is judged by.
select
    event_id::text,
    received_at
from submissions
where event_id = any(%(event_ids)s::uuid[])
