-- What became of the ballot behind a receipt: counted (when, to the minute), waiting for
-- its group of ballots, rejected (why), or received and not yet tallied. Events sent
-- straight to the broker have no submission row but are still found by their check-in,
-- their waiting ballot or their rejection.
with found as (
    select
        coalesce(
            submissions.election_id, checkins.election_id, held.election_id,
            rejected.election_id
        ) as election_id,
        submissions.received_at,
        date_trunc('minute', checkins.checked_in_at) as counted_at,
        held.election_id is not null as is_waiting,
        rejected.reason
    from (select %(receipt)s::text as receipt) as asked
    left join submissions on submissions.receipt = asked.receipt
    left join checkins on checkins.receipt = asked.receipt
    left join lateral (
        select held_ballots.election_id
        from held_ballots
        where held_ballots.receipt = asked.receipt
        limit 1
    ) as held on true
    left join lateral (
        select
            rejected_events.election_id,
            rejected_events.reason
        from rejected_events
        where rejected_events.receipt = asked.receipt
        order by rejected_events.kafka_offset
        limit 1
    ) as rejected on true
)

select
    election_id,
    received_at,
    counted_at,
    is_waiting,
    reason
from found
where election_id is not null
