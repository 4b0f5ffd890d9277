"""Kafka clients: topic management and the settings every producer and consumer shares.

Only the Kafka protocol is used, so the same code runs on the embedded Tansu broker and
on Apache Kafka. Topic names, partitions and schema versions are documented in docs/events.md.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic


def admin(bootstrap: str) -> AdminClient:
    return AdminClient({"bootstrap.servers": bootstrap, "socket.timeout.ms": 5000, "log_level": 3})


# The broker stamps each message with the time it appended it: a producer's own timestamp
# is not kept, so an event cannot claim to have come before an election closed.
TOPIC_CONFIG = {"message.timestamp.type": "LogAppendTime"}


def ensure_topics(bootstrap: str, topics: Mapping[str, int], timeout: float = 15.0) -> list[str]:
    """Create each topic (name -> partitions) that does not exist yet, stamped by the broker
    (``TOPIC_CONFIG``). Returns those created."""
    client = admin(bootstrap)
    existing = client.list_topics(timeout=timeout).topics
    wanted = [
        NewTopic(name, num_partitions=partitions, replication_factor=1, config=TOPIC_CONFIG)
        for name, partitions in topics.items()
        if name not in existing
    ]
    if not wanted:
        return []
    created = []
    for name, future in client.create_topics(wanted, request_timeout=timeout).items():
        try:
            future.result()
            created.append(name)
        except KafkaException as err:
            if err.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
                raise
    return created


def topic_partitions(bootstrap: str, timeout: float = 5.0) -> dict[str, int]:
    """Every topic the broker reports, with its partition count."""
    metadata = admin(bootstrap).list_topics(timeout=timeout)
    return {name: len(topic.partitions) for name, topic in metadata.topics.items()}


class TopicWatcher:
    """Tells cheaply where a topic's partitions end and how far a reader is behind (no
    Spark needed).

    It asks the broker for each partition's high watermark. On Tansu the listed watermark
    lags (it is the last produce batch's base offset + 1), but any new batch still moves it
    past what was read; ``ends`` then finds the exact end with one fetch.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Consumer

        self.topic, self.bootstrap = topic, bootstrap
        self._admin: AdminClient | None = None
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tallyflow-watch",
                                  "enable.auto.commit": False, "enable.partition.eof": True,
                                  "fetch.wait.max.ms": 10, "auto.offset.reset": "error",
                                  "log_level": 3})

    def partitions(self, timeout: float = 5.0) -> list[int]:
        """The topic's partitions as the broker reports them now (partitions can be added)."""
        topic = self.consumer.list_topics(self.topic, timeout=timeout).topics.get(self.topic)
        if topic is None or topic.error is not None:
            return []
        return sorted(topic.partitions)

    def topic_id(self, timeout: float = 5.0) -> str | None:
        """The broker's id of the topic (a topic created again gets a new one), if it has one."""
        from confluent_kafka import TopicCollection

        if self._admin is None:
            self._admin = AdminClient({"bootstrap.servers": self.bootstrap, "log_level": 3})
        futures = self._admin.describe_topics(TopicCollection([self.topic]),
                                              request_timeout=timeout)
        try:
            topic_id = futures[self.topic].result().topic_id
        except KafkaException:
            return None
        return str(topic_id) if topic_id is not None else None

    def ends(self, starts: Mapping[int, int], timeout: float = 15.0) -> dict[int, int]:
        """Each partition's end (the offset after its last event); see :meth:`bounds`."""
        return self.bounds(starts, timeout)[1]

    def bounds(self, starts: Mapping[int, int],
               timeout: float = 15.0) -> tuple[dict[int, int], dict[int, int]]:
        """Each partition's first offset and end (the offset after its last event).

        Found by reading each partition to its EOF from inside its last produce batch, where
        the listed watermark points (on Tansu's in-memory log it is that batch's first offset
        + 1; on Apache Kafka it is exact; Tansu's S3-backed log lists one that does not move,
        so there the whole partition is read). An end below ``starts[p]`` means the log is
        not the one ``starts`` were read from.
        """
        import time

        from confluent_kafka import TopicPartition

        marks = {p: self.consumer.get_watermark_offsets(
            TopicPartition(self.topic, p), timeout=timeout, cached=False) for p in starts}
        lows = {p: low for p, (low, _high) in marks.items()}
        highs = {p: high for p, (_low, high) in marks.items()}
        ends = {p: 0 for p in starts}
        todo = set(starts)
        # Never past the log's end: Tansu does not answer a fetch there at all.
        self.consumer.assign([TopicPartition(self.topic, p, max(highs[p] - 1, lows[p], 0))
                              for p in sorted(todo)])
        deadline = time.monotonic() + timeout
        try:
            while todo:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"no fetch answer for {self.topic} partitions "
                                       f"{sorted(todo)} within {timeout:.0f} s")
                for message in self.consumer.consume(10_000, timeout=0.005):
                    p = message.partition()
                    deadline = time.monotonic() + timeout
                    error = message.error()
                    if error is None:
                        ends[p] = max(ends[p], message.offset() + 1)
                    elif error.code() == KafkaError._PARTITION_EOF:
                        ends[p] = max(ends[p], message.offset())
                        todo.discard(p)
                    elif error.code() in (KafkaError._AUTO_OFFSET_RESET,
                                          KafkaError.OFFSET_OUT_OF_RANGE):
                        ends[p] = highs[p]  # the log ends before the offset asked for
                        todo.discard(p)
                    else:
                        raise KafkaException(error)
        finally:
            self.consumer.unassign()
        return lows, ends

    def _behind(self, next_offsets: Mapping[int, int], timeout: float) -> Iterator[int]:
        """Per partition, how many events the broker holds past ``next_offsets``."""
        from confluent_kafka import TopicPartition

        for partition, offset in next_offsets.items():
            _low, high = self.consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=timeout, cached=False
            )
            yield max(0, high - offset)

    def lag(self, next_offsets: Mapping[int, int], timeout: float = 5.0) -> int:
        """Events in the broker past ``next_offsets`` (a lower bound on Tansu, see above)."""
        return sum(self._behind(next_offsets, timeout))

    def close(self) -> None:
        self.consumer.close()


def partition_ends(bootstrap: str, topic: str, partitions: list[int],
                   timeout: float = 30.0) -> dict[int, int]:
    """Each partition's true end: the offset after its last event, found by reading to EOF.

    The broker's reported high watermark is only where to start reading (on Tansu it is
    the last produce batch's base offset + 1, so events can lie past it).
    """
    import time

    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tallyflow-ends",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "log_level": 3})
    try:
        ends = {}
        for partition in partitions:
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, partition),
                                                       timeout=timeout, cached=False)
            ends[partition] = max(low, high - 1, 0)
        consumer.assign([TopicPartition(topic, p, o) for p, o in ends.items()])
        pending = set(partitions)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} partitions {sorted(pending)} "
                                   f"to their end within {timeout:.0f} s")
            message = consumer.poll(1.0)
            if message is None:
                continue
            if message.error():
                if message.error().code() == KafkaError._PARTITION_EOF:
                    ends[message.partition()] = message.offset()
                    pending.discard(message.partition())
                    continue
                raise KafkaException(message.error())
            ends[message.partition()] = message.offset() + 1
        return ends
    finally:
        consumer.close()


def read_all(bootstrap: str, topic: str, partitions: list[int],
             timeout: float = 60.0) -> list[bytes]:
    """Every event value in ``partitions`` from offset 0 to the partition EOF (for checks
    and drills: an independent count of what the broker holds)."""
    import time

    from confluent_kafka import Consumer, TopicPartition

    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tallyflow-read-all",
                         "enable.auto.commit": False, "enable.partition.eof": True,
                         "auto.offset.reset": "earliest", "log_level": 3})
    values: list[bytes] = []
    try:
        consumer.assign([TopicPartition(topic, p, 0) for p in partitions])
        pending = set(partitions)
        deadline = time.monotonic() + timeout
        while pending:
            if time.monotonic() > deadline:
                raise TimeoutError(f"could not read {topic} partitions {sorted(pending)} "
                                   f"to their end within {timeout:.0f} s")
            for message in consumer.consume(10_000, timeout=0.5):
                if message.error():
                    if message.error().code() == KafkaError._PARTITION_EOF:
                        pending.discard(message.partition())
                        continue
                    raise KafkaException(message.error())
                values.append(message.value())
        return values
    finally:
        consumer.close()
