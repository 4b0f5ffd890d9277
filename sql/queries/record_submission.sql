insert into submissions (
    event_id, election_id, receipt, payload_sha256, received_at, payload, topic
)
values (
    %(event_id)s, %(election_id)s, %(receipt)s, %(payload_sha256)s, %(received_at)s,
    %(payload)s, %(topic)s
)
on conflict (event_id) do nothing
returning receipt
