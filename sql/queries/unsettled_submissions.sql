-- Receipted ballots of an election that were neither counted nor rejected.
select
    submissions.event_id,
    submissions.receipt,
    submissions.received_at,
    submissions.published_partition,
    submissions.published_offset
from submissions
where
    submissions.election_id = %(election_id)s
    and submissions.settled_at is null
    and not exists (
        select 1 from checkins
        where checkins.receipt = submissions.receipt
    )
    and not exists (
        select 1 from rejected_events
        where rejected_events.receipt = submissions.receipt
    )
order by submissions.received_at
