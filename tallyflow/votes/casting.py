"""The casting API's logic, free of any web framework: take a ballot, publish it, answer.

``cast`` checks a ballot against the vote event schema and against its voter's ballot
style (a ballot marking a contest that is not on its voter's ballot is refused, 422),
stamps the server's receive time, commits the whole event with its receipt to the outbox
(``tallyflow.votes.outbox``), and only then answers 202 and publishes it. Should the
broker not take it, the relay publishes it later: a 202 means the ballot is kept. The same
event id sent again gets the same receipt back and publishes nothing.
``receipt_status`` tells a voter what became of their ballot, never what it chose;
``ballot_style`` which contests are on their ballot (the contests of their precinct and
party, by ``tallyflow.elections.layout.ballot_of``, as the tally judges them).

A receipt is ``sha256("receipt:" + event_id + ":" + credential)`` in hex: the tally
computes the same hash from the event, so it can mark the receipt counted or rejected
without the API and the tally sharing anything but the event.
"""

from __future__ import annotations

import hashlib
import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import psycopg2

from tallyflow import db
from tallyflow.elections.checks import schema_errors
from tallyflow.elections.layout import ContestLayout, ballot_layouts, ballot_of
from tallyflow.votes.event import (
    CREDENTIAL_TEXT,
    SCHEMA_VERSION,
    DuplicateField,
    credential_digest,
    event_problem,
    loads_event,
    receipt_of,
    utc_text,
    vote_event_schema,
)
from tallyflow.votes.outbox import Publisher

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Answer:
    """An HTTP status and its JSON body."""

    status: int
    body: dict[str, Any]


def _problem(status: int, title: str, detail: str | list[str]) -> Answer:
    details = detail if isinstance(detail, list) else [detail]
    return Answer(status, {"status": status, "title": title, "errors": details})


class Caster:
    """Takes ballots for one process; safe to share between request threads."""

    def __init__(self, url: str, bootstrap: str, topic: str) -> None:
        self.url = url
        self.publisher = Publisher(url, bootstrap, topic)

    def cast(self, election_id: str, body: bytes | str | dict,
             now: datetime | None = None) -> Answer:
        """202 with a receipt once the ballot is in the outbox, or 400 (malformed), 403 (the
        credential is not on the roll), 404 (no such election), 409 (not open), 422 (it marks
        a contest not on its voter's ballot, or claims a vote method other than online),
        503 (the database did not take it). Nothing is
        kept or published but with a 202."""
        now = now or datetime.now(UTC)
        if not isinstance(body, dict):
            try:
                body = loads_event(body)
            except DuplicateField as err:
                return _problem(400, "The ballot is malformed",
                                f"field {err.args[0]!r} appears twice")
            except (ValueError, UnicodeDecodeError) as err:
                return _problem(400, "The ballot is not JSON", str(err))
            except RecursionError:
                return _problem(400, "The ballot is nested too deeply",
                                "a ballot is a JSON object of at most four levels")
        if not isinstance(body, dict):
            return _problem(400, "The ballot is not a JSON object",
                            f"got {type(body).__name__}")
        if body.get("election_id", election_id) != election_id:
            return _problem(400, "The ballot names another election",
                            f"election_id is {body['election_id']!r}, the URL says "
                            f"{election_id!r}")
        if body.get("channel", "online") != "online":
            # The door decides the vote method, not the voter: this one is online.
            return _problem(422, "The casting API takes online ballots only",
                            f"channel is {body['channel']!r}; a ballot cast here is "
                            "recorded as 'online'; nothing was kept")
        event = {
            "schema_version": SCHEMA_VERSION,
            "event_id": str(uuid.uuid4()),
            "cast_at": utc_text(now),
            **body,
            "channel": "online",
            "election_id": election_id,
            "received_at": utc_text(now),
        }
        # The tally's own check decides (``event_problem``); the schema's errors say where.
        problem = event_problem(event)
        if problem is not None:
            return _problem(400, "The ballot is malformed",
                            schema_errors(vote_event_schema(), event) or [problem])
        try:
            answer, payload = self._record(election_id, event, now)
        except psycopg2.Error as err:
            log.warning("ballot for %s not recorded: %s", election_id, err)
            return Answer(503, {"status": 503, "title": "The ballot could not be recorded; "
                                "please retry", "errors": ["the database is unavailable"]})
        if payload is not None:
            try:
                self.publisher.publish([(event["event_id"], payload)])
            except Exception as err:  # it is in the outbox: the relay publishes it
                log.warning("ballot %s kept for the relay: %s", event["event_id"], err)
        return answer

    def _record(self, election_id: str, event: dict,
                now: datetime) -> tuple[Answer, bytes | None]:
        """The answer, and the payload to publish when this call recorded a new ballot."""
        with db.connection(self.url) as conn, conn.cursor() as cur:
            refusal = _refusal(cur, election_id, event, now)
            if refusal is not None:
                return refusal, None
            receipt = receipt_of(event["event_id"], event["credential"])
            # What identifies the ballot, leaving out the times a retry may change.
            content = {k: v for k, v in event.items()
                       if k not in ("received_at", "cast_at")}
            digest = hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()
            payload = json.dumps(event, separators=(",", ":")).encode()
            cur.execute(db.query("record_submission"), {
                "event_id": event["event_id"], "election_id": election_id,
                "receipt": receipt, "payload_sha256": digest, "received_at": now,
                "payload": payload, "topic": self.publisher.topic,
            })
            if cur.fetchone() is None:  # this event id was taken in before
                cur.execute(db.query("submission_by_event"), {"event_id": event["event_id"]})
                earlier_receipt, earlier_digest, received_at = cur.fetchone()
                if earlier_digest != digest:
                    return _problem(400, "The event_id is already used",
                                    f"event_id {event['event_id']} was used for a different "
                                    "ballot; a retry must resend the same ballot"), None
                return Answer(202, {"receipt": earlier_receipt, "event_id": event["event_id"],
                                    "received_at": utc_text(received_at),
                                    "repeat": True}), None
        return Answer(202, {"receipt": receipt, "event_id": event["event_id"],
                            "received_at": event["received_at"], "repeat": False}), payload

    def close(self) -> None:
        self.publisher.close()


def _refusal(cur, election_id: str, event: dict, now: datetime) -> Answer | None:
    """Why a well-formed ballot is not taken (no such election, not open, a credential not
    on the roll, a contest not on its voter's ballot), or None.

    The election is read after taking its casting lock (shared, until the transaction
    ends), so a ballot is never taken in after the tally counted the election's last
    groups (``lock_closed_elections``)."""
    cur.execute(db.query("lock_election_for_casting"), {"election_id": election_id})
    cur.execute(db.query("casting_election"), {"election_id": election_id})
    election = cur.fetchone()
    if election is None:
        return _problem(404, "No such election", f"no election {election_id!r}")
    status, opens_at, closes_at = election
    if status in ("closed", "certified") or (closes_at is not None and now >= closes_at):
        return _problem(409, "The election is closed",
                        f"{election_id} closed at {utc_text(closes_at)}"
                        if closes_at else f"{election_id} is {status}")
    if status != "open" or (opens_at is not None and now < opens_at):
        return _problem(409, "The election is not open yet",
                        f"{election_id} is {status}"
                        + (f"; it opens at {utc_text(opens_at)}" if opens_at else ""))
    voter = _voter_style(cur, election_id, event["credential"])
    if voter is None:
        return _problem(403, "The credential is not on the roll",
                        f"no voter of {election_id} has this credential; nothing was kept")
    off_ballot = off_ballot_marks(_contests(cur, election_id), *voter, event["contests"])
    if off_ballot:
        return _problem(422, "The ballot marks a contest not on this voter's ballot",
                        [f"contest {c!r} is not on this voter's ballot; nothing was kept"
                         for c in off_ballot])
    return None


# An election's contests and their ballot styles never change once it is created, so each
# process reads them once per election (and database), not on every ballot.
_CONTESTS: dict[tuple[str, str], list[ContestLayout]] = {}
_CONTESTS_KEPT = 256


def _contests(cur, election_id: str) -> list[ContestLayout]:
    """The election's contests in ballot order (``ballot_layouts``), read once."""
    key = (cur.connection.dsn, election_id)
    if key not in _CONTESTS:
        contests = ballot_layouts(cur, [election_id]).get(election_id, [])
        if not contests:
            return contests
        if len(_CONTESTS) >= _CONTESTS_KEPT:  # rare: start again rather than grow
            _CONTESTS.clear()
        _CONTESTS[key] = contests
    return _CONTESTS[key]


def _voter_style(cur, election_id: str, credential: str) -> tuple[str, str | None] | None:
    """The precinct and party of the voter with ``credential``; None when not on the roll."""
    cur.execute(db.query("casting_voter"), {
        "election_id": election_id, "credential_sha256": credential_digest(credential)})
    return cur.fetchone()


def off_ballot_marks(contests: list[ContestLayout], region_id: str, party_id: str | None,
                     marks: list[dict]) -> list[str]:
    """The contests of the election that ``marks`` (a ballot's ``contests``) marks, with at
    least one selection, though they are not on the ballot of a voter of ``region_id`` and
    ``party_id``. A contest the election does not have is the tally's to judge."""
    elsewhere = {c.contest_id for c in contests if not c.on_ballot(region_id, party_id)}
    return [m["contest_id"] for m in marks if m["selections"] and m["contest_id"] in elsewhere]


def ballot_style(url: str, election_id: str, credential: str) -> Answer:
    """200 with the ids of the contests on the ballot of the voter with ``credential``, in
    ballot order; 400 (not a credential), 403 (not on the roll) or 404 (no such election).
    Whether the election is open does not matter: a voter may look at their ballot."""
    if not isinstance(credential, str) or not CREDENTIAL_TEXT.fullmatch(credential):
        return _problem(400, "Not a credential", "a credential is 32 lowercase hex characters")
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("casting_election"), {"election_id": election_id})
        if cur.fetchone() is None:
            return _problem(404, "No such election", f"no election {election_id!r}")
        voter = _voter_style(cur, election_id, credential)
        if voter is None:
            return _problem(403, "The credential is not on the roll",
                            f"no voter of {election_id} has this credential")
        contests = _contests(cur, election_id)
    return Answer(200, {"election_id": election_id,
                        "contests": [c.contest_id for c in ballot_of(contests, *voter)]})


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
    election_id, received_at, counted_at, is_waiting, reason = row
    if counted_at is not None:
        status, note = "counted", "Your ballot was counted."
    elif is_waiting:
        status, note = "waiting", ("Your ballot was received; it is counted with the next "
                                   "ballots of its precinct, or at close (ballot secrecy).")
        reason = None
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
