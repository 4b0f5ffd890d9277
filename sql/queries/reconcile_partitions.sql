-- Per partition of the votes topic: events counted, rejected and waiting for their group
-- (every election; certification counts its own election's first), beside
-- the events consumed over every epoch of its log (consumed_before + the committed
-- offset). Read in one snapshot with them, so a tally batch committing meanwhile cannot
-- make them disagree.
select
    partitions.partition,
    coalesce(counted.accepted, 0) as accepted,
    coalesce(rejected.rejected, 0) as rejected,
    coalesce(held.held, 0) as held,
    coalesce(consumer_offsets.consumed_before + consumer_offsets.next_offset, 0) as consumed
from unnest(%(partitions)s::integer[]) as partitions (partition)
left join consumer_offsets
    on consumer_offsets.topic = %(topic)s and consumer_offsets.partition = partitions.partition
left join (
    select
        partition,
        sum(accepted) as accepted
    from partition_accepted_totals
    where topic = %(topic)s
    group by partition
) as counted on counted.partition = partitions.partition
left join (
    select
        partition,
        count(*) as rejected
    from rejected_events
    where topic = %(topic)s
    group by partition
) as rejected on rejected.partition = partitions.partition
left join (
    select
        partition,
        count(*) as held
    from held_ballots
    where topic = %(topic)s
    group by partition
) as held on held.partition = partitions.partition
order by partitions.partition
