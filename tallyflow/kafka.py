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
