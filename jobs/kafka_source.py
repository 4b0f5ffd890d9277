"""A Spark Python Data Source reading Kafka offset ranges with confluent-kafka.

Spark's JVM Kafka connector is not used: ``format("tallyflow_kafka")`` reads each partition
from a given start offset to its end as the first fetch reports it (the high watermark in
fetch responses, which Tansu gets right even when its ListOffsets answer lags), or to the
partition EOF, or to ``max_per_partition`` events. One Spark partition per Kafka
partition; rows keep topic, partition, offset and the broker timestamp so every event can be
traced back.

Options: ``bootstrap``, ``topic``, ``start_offsets`` (JSON ``{"partition": offset}``),
``max_per_partition`` (default 1,000,000).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

from pyspark.sql.datasource import DataSource, DataSourceReader, InputPartition
from pyspark.sql.types import (
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from tallyflow.votes.offsets import Offsets

KAFKA_ROW = StructType(
    [
        StructField("topic", StringType(), False),
        StructField("partition", IntegerType(), False),
        StructField("offset", LongType(), False),
        StructField("broker_timestamp", TimestampType(), True),
        StructField("key", BinaryType(), True),
        StructField("value", BinaryType(), True),
    ]
)


REPLY_TIMEOUT = 15.0
FETCH_WAIT_MS = 10
# consume() waits out its whole timeout unless it fills its batch, so it is called in
# short slices: a small partition's read ends as soon as its messages are in.
POLL_SLICE = 0.005


class OffsetRange(InputPartition):
    def __init__(self, partition: int, start: int) -> None:
        super().__init__(partition)
        self.partition = partition
        self.start = start


class KafkaRangeReader(DataSourceReader):
    def __init__(self, options: dict[str, str]) -> None:
        self.bootstrap = options["bootstrap"]
        self.topic = options["topic"]
        starts = json.loads(options["start_offsets"])
        self.start_offsets = Offsets.from_json(starts)
        self.max_per_partition = int(options.get("max_per_partition", 1_000_000))

    def partitions(self) -> list[OffsetRange]:
        return [OffsetRange(p, o) for p, o in sorted(self.start_offsets.items())]

    def read(self, partition: OffsetRange) -> Iterator:
        """Yields Arrow record batches: far cheaper for Spark than one tuple per event."""
        import time

        from confluent_kafka import TopicPartition

        consumer = _consumer(self.bootstrap)
        try:
            topic_partition = TopicPartition(self.topic, partition.partition, partition.start)
            consumer.assign([topic_partition])
            remaining = self.max_per_partition
            end = None
            # Polls in short slices and gives up only after REPLY_TIMEOUT seconds without
            # any reply.
            deadline = time.monotonic() + REPLY_TIMEOUT
            while remaining > 0:
                messages = consumer.consume(min(remaining, 10_000), timeout=POLL_SLICE)
                if not messages:
                    if time.monotonic() > deadline:
                        raise RuntimeError(
                            f"no reply from {self.bootstrap} for {self.topic}"
                            f"[{partition.partition}] at offset {partition.start} "
                            f"within {REPLY_TIMEOUT:.0f} s"
                        )
                    continue
                deadline = time.monotonic() + REPLY_TIMEOUT
                if end is None:
                    # The partition's end as of the first fetch: read to there and leave what
                    # arrives later to the next batch, or a steady stream of new events
                    # would keep this read from ever reaching the end.
                    _low, high = consumer.get_watermark_offsets(topic_partition, cached=True)
                    end = high if high > 0 else None
                kept, finished = _to_keep(messages, end, remaining,
                                          f"{self.topic}[{partition.partition}]")
                remaining -= len(kept)
                if kept:
                    yield _record_batch(self.topic, partition.partition, kept)
                if finished:
                    return
        finally:
            consumer.close()


def _consumer(bootstrap: str):
    from confluent_kafka import Consumer

    return Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "tallyflow-tally",  # required by the client; nothing is committed
        "enable.auto.commit": False,
        "enable.partition.eof": True,
        # An offset past the log's end is an error, never a silent jump to its end.
        "auto.offset.reset": "error",
        "fetch.max.bytes": 52_428_800,
        # At the partition's end the broker may hold a fetch this long before it answers
        # (500 ms by default): the end of every read would wait for it.
        "fetch.wait.max.ms": FETCH_WAIT_MS,
        "log_level": 3,
    })


def _to_keep(messages: list, end: int | None, remaining: int,
             where: str) -> tuple[list, bool]:
    """The messages of one consume() that belong to this read, and whether the read is
    finished: at the partition EOF, at ``end`` (the end as of the first fetch), or after
    ``remaining`` messages. A broker error fails the read."""
    from confluent_kafka import KafkaError

    kept = []
    for message in messages:
        error = message.error()
        if error is not None:
            if error.code() == KafkaError._PARTITION_EOF:
                return kept, True
            raise RuntimeError(f"{where}: {error}")
        if end is not None and message.offset() >= end:
            return kept, True  # past the end as of the first fetch
        kept.append(message)
        if len(kept) == remaining or (end is not None and message.offset() + 1 >= end):
            return kept, True
    return kept, False


def _record_batch(topic: str, partition: int, messages: list):
    """``KAFKA_ROW`` rows of ``messages`` as one Arrow record batch."""
    import pyarrow as pa

    n = len(messages)
    millis = [m.timestamp()[1] for m in messages]
    return pa.RecordBatch.from_arrays(
        [
            pa.array([topic] * n, pa.string()),
            pa.array([partition] * n, pa.int32()),
            pa.array([m.offset() for m in messages], pa.int64()),
            pa.array([t * 1000 if t > 0 else None for t in millis],
                     pa.timestamp("us", tz="UTC")),
            pa.array([m.key() for m in messages], pa.binary()),
            pa.array([m.value() for m in messages], pa.binary()),
        ],
        schema=pa.schema([
            pa.field("topic", pa.string(), False),
            pa.field("partition", pa.int32(), False),
            pa.field("offset", pa.int64(), False),
            pa.field("broker_timestamp", pa.timestamp("us", tz="UTC")),
            pa.field("key", pa.binary()),
            pa.field("value", pa.binary()),
        ]),
    )


class KafkaRangeSource(DataSource):
    @classmethod
    def name(cls) -> str:
        return "tallyflow_kafka"

    def schema(self) -> StructType:
        return KAFKA_ROW

    def reader(self, schema: StructType) -> KafkaRangeReader:
        return KafkaRangeReader(self.options)
