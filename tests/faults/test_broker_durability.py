"""The embedded broker's durable log: what it acknowledged survives kill -9 of the broker
and of its object store."""

from __future__ import annotations

import uuid

import pytest
from confluent_kafka import Producer

from tallyflow.kafka import ensure_topics, read_all
from tests.faults.conftest import kill_and_restart

pytestmark = pytest.mark.slow


def _produce(bootstrap: str, topic: str, values: list[bytes]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "acks": "all", "log_level": 3})
    failed = []
    for value in values:
        producer.produce(topic, value, key=value[-4:],
                         on_delivery=lambda err, _m: err is not None and failed.append(err))
        producer.poll(0)
    assert producer.flush(30) == 0
    assert failed == []


def test_acknowledged_events_survive_kill_9_of_the_broker_and_its_store(own_broker):
    stack = own_broker("durable")
    bootstrap = stack.settings.kafka_bootstrap
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {topic: 2})
    first = [f"first-{i:05d}".encode() for i in range(3000)]
    _produce(bootstrap, topic, first)

    kill_and_restart(stack, "kafka")
    assert sorted(read_all(bootstrap, topic, [0, 1])) == sorted(first)

    second = [f"second-{i:05d}".encode() for i in range(2000)]
    _produce(bootstrap, topic, second)
    kill_and_restart(stack, "kafka-store")
    kill_and_restart(stack, "kafka")

    assert sorted(read_all(bootstrap, topic, [0, 1])) == sorted(first + second)
