"""Fault tests: each kills or restarts a service of its own, never the session's."""

from __future__ import annotations

import os
import signal
import uuid
from collections.abc import Callable, Iterator

import pytest

from tallyctl.stack import Stack
from tallyctl.stack.broker import object_store
from tallyctl.stack.broker import server as broker_server
from tallyctl.stack.process import free_port, port_is_open
from tallyflow.settings import Settings


@pytest.fixture
def own_broker(tmp_path) -> Iterator[Callable[..., Stack]]:
    """Starts a broker of this test's own (``storage``: memory or durable) with a votes topic
    of its own name; stopped at the end."""
    stacks: list[Stack] = []

    def start(storage: str = "memory") -> Stack:
        settings = Settings.from_env({
            "TALLYFLOW_HOME": str(tmp_path / f"home-{len(stacks)}"),
            "TALLYFLOW_KAFKA_PORT": str(free_port()),
            "TALLYFLOW_KAFKA_STORE_PORT": str(free_port()),
            "TALLYFLOW_KAFKA_STORAGE": storage,
            "TALLYFLOW_VOTES_TOPIC": f"votes-{uuid.uuid4().hex[:8]}",
        })
        stack = Stack(settings, say=lambda _message: None)
        stacks.append(stack)
        stack.prepare_broker(stack.launch_kafka())
        return stack

    yield start
    for stack in stacks:
        stack.stop()


def kill_and_restart(stack: Stack, name: str) -> None:
    """kill -9 one component and start it again as the supervisor would (the broker with
    its topics ensured)."""
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
