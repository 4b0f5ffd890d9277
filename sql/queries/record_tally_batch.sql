insert into tally_batches (
    started_at, events, accepted, rejected, duration_ms, offsets, newest_event_at
)
values (
    %(started_at)s, %(events)s, %(accepted)s, %(rejected)s, %(duration_ms)s, %(offsets)s,
    %(newest_event_at)s
)
