"""The supervisor heals: a component killed with -9 is started again, on its own data."""

from __future__ import annotations

import threading
import time
import uuid

import pytest

from tallyctl.stack import Stack, read_state
from tallyctl.stack.process import free_port_env
from tallyflow import db
from tallyflow.kafka import ensure_topics, read_all, topic_partitions
from tallyflow.settings import Settings

pytestmark = pytest.mark.slow


def _wait(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        except Exception:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not {what} within {seconds:.0f} s")


def test_killed_components_are_restarted_and_postgres_keeps_its_data(tmp_path):
    import os
    import signal

    from confluent_kafka import Producer

    settings = Settings.from_env(free_port_env(tmp_path / "home"))
    stack = Stack(settings, say=lambda _message: None)
    stop = threading.Event()
    supervisor = threading.Thread(target=stack.supervise, kwargs={"poll": 0.2, "stop": stop})
    try:
        stack.prepare_database(stack.launch_postgres())
        stack.prepare_broker(stack.launch_kafka())
        with db.connection(settings.database_url) as conn, conn.cursor() as cur:
            cur.execute(db.query("record_component_health"),
                        {"component": "drill", "is_healthy": True, "detail": "before the kill"})
        supervisor.start()
        pids = {p.name: p.pid for p in stack.started}

        for name in ("postgres", "kafka"):
            os.kill(pids[name], signal.SIGKILL)
        _wait(lambda: all(p.restarts == 1 for p in stack.started), 30, "restarted")
        _wait(lambda: topic_partitions(settings.kafka_bootstrap)[settings.votes_topic] == 4,
              30, "serving the votes topic again")
        _wait(lambda: db.connect(settings.database_url).close() is None, 60,
              "accepting connections again")

        with db.connection(settings.database_url) as conn, conn.cursor() as cur:
            cur.execute("select detail from component_health where component = 'drill'")
            assert cur.fetchall() == [("before the kill",)]
        topic = f"after-{uuid.uuid4().hex[:6]}"
        ensure_topics(settings.kafka_bootstrap, {topic: 1})
        producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 3})
        producer.produce(topic, b"still taking events")
        assert producer.flush(10) == 0
        assert read_all(settings.kafka_bootstrap, topic, [0]) == [b"still taking events"]
        state = read_state(settings)["components"]
        assert {name: state[name]["restarts"] for name in pids} == {"postgres": 1, "kafka": 1}
        assert state["kafka"]["last_exit_code"] == -signal.SIGKILL
        assert {p.pid for p in stack.started}.isdisjoint(pids.values())
    finally:
        stop.set()
        if supervisor.is_alive():
            supervisor.join(timeout=10)
        stack.stop()
