-- Outbox rows the tally has read past: settled when their receipt was counted, rejected or
-- kept to wait for its group (the payload is dropped: held_ballots has the ballot),
-- otherwise lost by the broker and marked for publishing again.
with passed as (
    select
        submissions.event_id,
        exists (
            select 1 from checkins
            where checkins.receipt = submissions.receipt
        ) or exists (
            select 1 from rejected_events
            where rejected_events.receipt = submissions.receipt
        ) or exists (
            select 1 from held_ballots
            where held_ballots.receipt = submissions.receipt
        ) as is_settled
    from submissions
    inner join consumer_offsets
        on
            consumer_offsets.topic = submissions.topic
            and consumer_offsets.partition = submissions.published_partition
            and submissions.published_offset < consumer_offsets.next_offset
    where submissions.settled_at is null and submissions.topic = %(topic)s
)

update submissions
set
    settled_at = case when passed.is_settled then now() end,
    payload = case when passed.is_settled then null else submissions.payload end,
    published_partition = case when passed.is_settled then submissions.published_partition end,
    published_offset = case when passed.is_settled then submissions.published_offset end
from passed
where submissions.event_id = passed.event_id
returning passed.is_settled
