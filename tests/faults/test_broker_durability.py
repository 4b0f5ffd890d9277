"""The embedded broker's durable log: what it acknowledged survives kill -9 of the broker
and of its object store, on a broker of this test's own (the session's one keeps running)."""

from __future__ import annotations

import os
import signal
import uuid

import pytest
from confluent_kafka import Producer

from tallyflow.kafka import ensure_topics, read_all
from tallyflow.settings import Settings
from tallyflow.stack import Stack
from tallyflow.stack.broker import object_store
from tallyflow.stack.broker import server as broker_server
from tallyflow.stack.process import free_port, port_is_open

pytestmark = pytest.mark.slow


@pytest.fixture
def own_broker(tmp_path):
    settings = Settings.from_env({
        "TALLYFLOW_HOME": str(tmp_path / "home"),
        "TALLYFLOW_KAFKA_PORT": str(free_port()),
        "TALLYFLOW_KAFKA_STORE_PORT": str(free_port()),
        "TALLYFLOW_KAFKA_STORAGE": "durable",
    })
    stack = Stack(settings, say=lambda _message: None)
    yield stack
    stack.stop()


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


def _restart(stack: Stack, name: str) -> None:
    """kill -9 one component and start it again, as the supervisor would."""
    proc = next(p for p in stack.started if p.name == name)
    os.kill(proc.pid, signal.SIGKILL)
    proc.popen.wait(timeout=10)
    stack.started.remove(proc)
    if name == "kafka":
        stack.prepare_broker(stack._start(broker_server(stack.settings)))
    else:
        restarted = stack._start(object_store(stack.settings))
        restarted.wait_until(lambda: port_is_open(stack.settings.kafka_store_port), 30,
                             "listening")


def test_acknowledged_events_survive_kill_9_of_the_broker_and_its_store(own_broker):
    stack = own_broker
    stack.prepare_broker(stack.launch_kafka())
    bootstrap = stack.settings.kafka_bootstrap
    topic = f"durable-{uuid.uuid4().hex[:8]}"
    ensure_topics(bootstrap, {topic: 2})
    first = [f"first-{i:05d}".encode() for i in range(3000)]
    _produce(bootstrap, topic, first)

    _restart(stack, "kafka")
    assert sorted(read_all(bootstrap, topic, [0, 1])) == sorted(first)

    second = [f"second-{i:05d}".encode() for i in range(2000)]
    _produce(bootstrap, topic, second)
    _restart(stack, "kafka-store")
    _restart(stack, "kafka")

    assert sorted(read_all(bootstrap, topic, [0, 1])) == sorted(first + second)
