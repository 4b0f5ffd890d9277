"""The casting API's logic, free of any web framework: take a ballot, publish it, answer.

``cast`` checks a ballot against the vote event schema, stamps the server's receive time,
records the event id with its receipt, and publishes the event with an idempotent
producer. The same event id sent again gets the same receipt back and publishes nothing.
``receipt_status`` tells a voter what became of their ballot, never what it chose.

A receipt is ``sha256("receipt:" + event_id + ":" + credential)`` in hex: the tally
computes the same hash from the event, so it can mark the receipt counted or rejected
without the API and the tally sharing anything but the event.
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tallyflow import db
from tallyflow.elections.definition import schema_errors
from tallyflow.votes.event import SCHEMA_VERSION, utc_text, vote_event_schema

PUBLISH_TIMEOUT = 10.0


def receipt_of(event_id: str, credential: str) -> str:
    return hashlib.sha256(f"receipt:{event_id}:{credential}".encode()).hexdigest()


@dataclass(frozen=True)
class Answer:
    """An HTTP status and its JSON body."""

    status: int
    body: dict[str, Any]


def _problem(status: int, title: str, detail: str | list[str]) -> Answer:
    details = detail if isinstance(detail, list) else [detail]
    return Answer(status, {"status": status, "title": title, "errors": details})


class Caster:
    """Publishes ballots for one process; safe to share between request threads."""

    def __init__(self, url: str, bootstrap: str, topic: str) -> None:
        self.url, self.bootstrap, self.topic = url, bootstrap, topic
        self._producer = None
        self._lock = threading.Lock()

    def _publisher(self):
        from confluent_kafka import Producer

        with self._lock:
            if self._producer is None:
                self._producer = Producer({
                    "bootstrap.servers": self.bootstrap, "enable.idempotence": True,
                    "acks": "all", "linger.ms": 2, "log_level": 3,
                })
            return self._producer

    def cast(self, election_id: str, body: bytes | str | dict,
             now: datetime | None = None) -> Answer:
        """202 with a receipt, or 400 (malformed), 404 (no such election), 409 (not open)."""
        now = now or datetime.now(UTC)
        if not isinstance(body, dict):
            try:
                body = json.loads(body)
            except (ValueError, UnicodeDecodeError) as err:
                return _problem(400, "The ballot is not JSON", str(err))
        if not isinstance(body, dict):
            return _problem(400, "The ballot is not a JSON object",
                            f"got {type(body).__name__}")
        if body.get("election_id", election_id) != election_id:
            return _problem(400, "The ballot names another election",
                            f"election_id is {body['election_id']!r}, the URL says "
                            f"{election_id!r}")
        event = {
            "schema_version": SCHEMA_VERSION,
            "event_id": str(uuid.uuid4()),
            "cast_at": utc_text(now),
            "channel": "online",
            **body,
            "election_id": election_id,
            "received_at": utc_text(now),
        }
        errors = schema_errors(vote_event_schema(), event)
        if errors:
            return _problem(400, "The ballot is malformed", errors)

        with db.connection(self.url) as conn, conn.cursor() as cur:
            cur.execute(db.query("casting_election"), {"election_id": election_id})
            election = cur.fetchone()
            if election is None:
                return _problem(404, "No such election", f"no election {election_id!r}")
            status, opens_at, closes_at = election
            if status in ("closed", "certified") or (closes_at is not None
                                                       and now >= closes_at):
                return _problem(409, "The election is closed",
                                f"{election_id} closed at {utc_text(closes_at)}"
                                if closes_at else f"{election_id} is {status}")
            if status != "open" or (opens_at is not None and now < opens_at):
                return _problem(409, "The election is not open yet",
                                f"{election_id} is {status}"
                                + (f"; it opens at {utc_text(opens_at)}" if opens_at else ""))
            receipt = receipt_of(event["event_id"], event["credential"])
            # What identifies the ballot, leaving out the times a retry may change.
            content = {k: v for k, v in event.items()
                       if k not in ("received_at", "cast_at")}
            digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
            cur.execute(db.query("record_submission"), {
                "event_id": event["event_id"], "election_id": election_id,
                "receipt": receipt, "payload_sha256": digest, "received_at": now,
            })
            first = cur.fetchone()
            if first is None:  # this event id was taken in before
                cur.execute(db.query("submission_by_event"), {"event_id": event["event_id"]})
                earlier_receipt, earlier_digest, received_at = cur.fetchone()
                if earlier_digest != digest:
                    return _problem(400, "The event_id is already used",
                                    f"event_id {event['event_id']} was used for a different "
                                    "ballot; a retry must resend the same ballot")
                return Answer(202, {"receipt": earlier_receipt, "event_id": event["event_id"],
                                    "received_at": utc_text(received_at), "repeat": True})
            # Published before the submission commits: should publishing fail, the
            # submission rolls back with it and the client can simply retry.
            self._publish(event)
        return Answer(202, {"receipt": receipt, "event_id": event["event_id"],
                            "received_at": event["received_at"], "repeat": False})

    def _publish(self, event: dict) -> None:
        producer = self._publisher()
        outcome: dict[str, Any] = {}
        producer.produce(
            self.topic, json.dumps(event, separators=(",", ":")).encode(),
            key=event["credential"].encode(),
            on_delivery=lambda err, _msg: outcome.setdefault("error", err),
        )
        producer.flush(PUBLISH_TIMEOUT)
        if "error" not in outcome:
            raise PublishFailed(f"the broker did not confirm within {PUBLISH_TIMEOUT:.0f} s")
        if outcome["error"] is not None:
            raise PublishFailed(str(outcome["error"]))

    def close(self) -> None:
        if self._producer is not None:
            self._producer.flush(PUBLISH_TIMEOUT)
            self._producer = None  # dropped, so the client stops connecting


class PublishFailed(RuntimeError):
    """The broker did not take the ballot; nothing was recorded, so a retry is safe."""


def receipt_status(url: str, receipt: str) -> Answer:
    """Whether the ballot behind a receipt was counted, rejected or is still on its way."""
    if not isinstance(receipt, str) or len(receipt) != 64 or any(
            c not in "0123456789abcdef" for c in receipt):
        return _problem(400, "Not a receipt", "a receipt is 64 lowercase hex characters")
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("receipt_status"), {"receipt": receipt})
        row = cur.fetchone()
    if row is None:
        return _problem(404, "Unknown receipt", "no ballot with this receipt was received")
    election_id, received_at, counted_at, reason = row
    if counted_at is not None:
        status, note = "counted", "Your ballot was counted."
    elif reason is not None:
        status, note = "rejected", f"Your ballot was not counted: {reason}."
    else:
        status, note = "pending", "Your ballot was received and is waiting to be counted."
    body = {"receipt": receipt, "election_id": election_id, "status": status, "note": note,
            "received_at": utc_text(received_at) if received_at else None,
            # To the minute: when, not in what order.
            "counted_at": utc_text(counted_at) if counted_at else None,
            "reason": reason}
    return Answer(200, body)
