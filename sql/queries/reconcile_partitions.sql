-- Per partition of the votes topic: events counted and rejected (every election).
select
    partitions.partition,
    coalesce(counted.accepted, 0) as accepted,
    coalesce(rejected.rejected, 0) as rejected
from unnest(%(partitions)s::integer[]) as partitions (partition)
left join (
    select partition, sum(accepted) as accepted
    from partition_accepted_totals
    where topic = %(topic)s
    group by partition
) as counted on counted.partition = partitions.partition
left join (
    select partition, count(*) as rejected
    from rejected_events
    where topic = %(topic)s
    group by partition
) as rejected on rejected.partition = partitions.partition
order by partitions.partition
