"""The casting API's outbox: a ballot answered 202 is in PostgreSQL before it is published.

``Publisher`` sends outbox events to the votes topic with an idempotent producer and
records where the broker acknowledged each one (partition, offset). ``relay`` is run by
the tally between its batches and by certification's drain:

1. it settles every outbox row the tally has read past: counted or rejected (its receipt is
   on a check-in or a rejected event), the row keeps only its receipt and drops the
   ballot; neither (the broker lost it, e.g. an in-memory log restarted), it is marked for
   publishing again;
2. it publishes every row the broker never acknowledged (the API's publish timed out, the
   broker was down, the process died between its commit and its publish, or 1. found it
   lost).

Publishing twice is safe: the tally counts a voter's first valid ballot only, so a second
copy of the same event is rejected as a duplicate and the receipt still says counted.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from tallyflow import db

# How long the API waits for the broker before it answers 202 anyway (the event is safe in
# the outbox) and leaves the publishing to the relay.
PUBLISH_TIMEOUT = 2.0
# The relay leaves a fresh row this long to the API's own publish.
RELAY_GRACE_SECONDS = 5.0
RELAY_BATCH = 10_000


class Publisher:
    """Publishes outbox events and records each acknowledgement; thread-safe."""

    def __init__(self, url: str, bootstrap: str, topic: str) -> None:
        self.url, self.bootstrap, self.topic = url, bootstrap, topic
        self._producer = None
        self._lock = threading.Lock()

    def _client(self):
        from confluent_kafka import Producer

        with self._lock:
            if self._producer is None:
                self._producer = Producer({
                    "bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                    "acks": "all", "linger.ms": 2, "log_level": 3,
                    # A message the broker has not taken by then is dropped from the queue;
                    # the outbox still has it and the relay sends it again.
                    "message.timeout.ms": 60_000,
                })
            return self._producer

    def publish(self, events: Iterable[tuple[str, bytes]],
                timeout: float = PUBLISH_TIMEOUT) -> int:
        """Send (event_id, payload) pairs; returns how many the broker acknowledged within
        ``timeout``. Acknowledgements that come later are recorded when they come."""
        producer = self._client()
        acked: list[tuple[str, int, int]] = []
        sent = 0
        for event_id, payload in events:
            credential = json.loads(payload)["credential"]
            producer.produce(
                self.topic, payload, key=credential.encode(),
                on_delivery=lambda err, msg, event_id=event_id: err is None and acked.append(
                    (event_id, msg.partition(), msg.offset())),
            )
            producer.poll(0)
            sent += 1
        if sent:
            producer.flush(timeout)
        self._record(acked)
        return len(acked)

    def _record(self, acked: list[tuple[str, int, int]]) -> None:
        if not acked:
            return
        from psycopg2.extras import execute_batch

        with db.connection(self.url) as conn, conn.cursor() as cur:
            execute_batch(cur, db.query("record_publication"),
                          [{"event_id": e, "partition": p, "offset": o} for e, p, o in acked],
                          page_size=1000)

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(PUBLISH_TIMEOUT)
            self._producer = None  # dropped, so the client stops connecting


@dataclass(frozen=True)
class RelayReport:
    settled: int
    lost: int
    published: int
    unpublished: int  # still waiting for the broker after this run
    # not acknowledged by the broker yet: left to the API's own publish within the grace
    # period, or not taken by the broker (``unpublished``)
    waiting: int = 0


def settle(url: str, topic: str) -> tuple[int, int]:
    """Step 1 of :func:`relay`: (settled, lost) rows the tally has read past."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("settle_submissions"), {"topic": topic})
        outcomes = [row[0] for row in cur.fetchall()]
    return sum(outcomes), len(outcomes) - sum(outcomes)


def relay(url: str, publisher: Publisher, *, grace_seconds: float = RELAY_GRACE_SECONDS,
          timeout: float = 10.0) -> RelayReport:
    """Settle what the tally has read past, then publish what the broker does not hold."""
    settled, lost = settle(url, publisher.topic)
    published = unpublished = 0
    while True:
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute(db.query("unpublished_submissions"),
                        {"topic": publisher.topic, "grace_seconds": grace_seconds,
                         "limit": RELAY_BATCH})
            due = [(str(event_id), bytes(payload)) for event_id, payload in cur.fetchall()]
        if not due:
            break
        acked = publisher.publish(due, timeout=timeout)
        published += acked
        if acked < len(due):  # the broker is not taking them: try again on the next run
            unpublished = len(due) - acked
            break
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("waiting_submissions"), {"topic": publisher.topic})
        (waiting,) = cur.fetchone()
    return RelayReport(settled, lost, published, unpublished, waiting)


def unsettled(url: str, election_id: str) -> list[dict]:
    """The election's receipted ballots that were neither counted nor rejected."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("unsettled_submissions"), {"election_id": election_id})
        columns = [c.name for c in cur.description]
        return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def waiting(url: str) -> int:
    """Receipted ballots not yet counted or rejected, over every election (kept here, so
    nothing the broker loses is lost with it)."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("outbox_waiting"))
        return cur.fetchone()[0]
