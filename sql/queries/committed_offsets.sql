select
    partition,
    next_offset
from consumer_offsets
where topic = %(topic)s
