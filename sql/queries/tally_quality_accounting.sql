-- One topic's events: counted plus rejected plus waiting for their group must be every
-- event read (over every epoch of each partition's log).
select
    %(topic)s as topic,
    coalesce((
        select sum(accepted) from tally_batches
        where topic = %(topic)s
    ), 0)
        as accepted,
    (
        select count(*) from rejected_events
        where topic = %(topic)s
    ) as rejected,
    (
        select count(*) from held_ballots
        where topic = %(topic)s
    ) as held,
    coalesce((
        select sum(consumed_before + next_offset) from consumer_offsets
        where topic = %(topic)s
    ), 0)
        as consumed
