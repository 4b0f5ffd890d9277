select
    receipt,
    payload_sha256,
    received_at
from submissions
where event_id = %(event_id)s
