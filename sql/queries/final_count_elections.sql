-- Closed elections whose last groups of ballots can be counted: some wait, and every
-- receipted ballot of theirs is in the broker (none waits in the outbox), so a read to the
-- log's end has every ballot they will get.
select elections.election_id
from elections
where
    elections.status = 'closed'
    and exists (
        select from held_ballots
        where held_ballots.election_id = elections.election_id
    )
    and not exists (
        select from submissions
        where
            submissions.election_id = elections.election_id
            and submissions.settled_at is null
            and submissions.published_partition is null
            and submissions.payload is not null
    )
