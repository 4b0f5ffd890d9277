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


def ensure_topics(bootstrap: str, topics: Mapping[str, int], timeout: float = 15.0) -> list[str]:
    """Create each topic (name -> partitions) that does not exist yet. Returns those created."""
    client = admin(bootstrap)
    existing = client.list_topics(timeout=timeout).topics
    wanted = [
        NewTopic(name, num_partitions=partitions, replication_factor=1)
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
    """Tells cheaply whether a topic has events past given offsets (no Spark needed).

    It asks the broker for each partition's high watermark. On Tansu the watermark lags
    (it is the last produce batch's base offset + 1), but any new batch still moves it past
    what was read, which is all this needs: the batch itself reads to the partition's end.
    """

    def __init__(self, bootstrap: str, topic: str) -> None:
        from confluent_kafka import Consumer

        self.topic = topic
        self.consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "tallyflow-watch",
                                  "enable.auto.commit": False, "log_level": 3})

    def _behind(self, next_offsets: Mapping[int, int], timeout: float) -> Iterator[int]:
        """Per partition, how many events the broker holds past ``next_offsets``."""
        from confluent_kafka import TopicPartition

        for partition, offset in next_offsets.items():
            _low, high = self.consumer.get_watermark_offsets(
                TopicPartition(self.topic, partition), timeout=timeout, cached=False
            )
            yield max(0, high - offset)

    def has_new_events(self, next_offsets: Mapping[int, int], timeout: float = 5.0) -> bool:
        return any(self._behind(next_offsets, timeout))

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
