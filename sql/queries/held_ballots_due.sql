-- Whether a closed election has ballots waiting for their group that a batch could count
-- now (final_count_elections), though no new event came.
select exists(
    select from held_ballots
    inner join elections on held_ballots.election_id = elections.election_id
    where
        elections.status = 'closed'
        and not exists (
            select from submissions
            where
                submissions.election_id = elections.election_id
                and submissions.settled_at is null
                and submissions.published_partition is null
                and submissions.payload is not null
        )
)
