"""The vote event: one JSON message per ballot on the votes topic, keyed by credential.

``schemas/vote_event.schema.json`` is the published contract; ``docs/events.md`` documents
it for anyone producing events with any Kafka client. ``event_problem`` is the one check of
an event's form: the casting API answers 400 by it and the tally rejects an event as
``malformed`` by it (``read_event``), so neither can take what the other refuses.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "vote_event.schema.json"
CHANNELS = ("online", "in_person", "mail")


@cache
def vote_event_schema() -> dict:
    return json.loads(SCHEMA_PATH.read_text())


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC to the millisecond, with a Z: how the event writes times."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class ContestSelection:
    contest_id: str
    selections: tuple[str, ...]


@dataclass(frozen=True)
class VoteEvent:
    election_id: str
    credential: str
    region_id: str
    contests: tuple[ContestSelection, ...]
    channel: str = "online"
    cast_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received_at: datetime | None = None

    @classmethod
    def ballot(cls, election_id: str, credential: str, region_id: str,
               choices: dict[str, Sequence[str]], **kwargs) -> VoteEvent:
        """A ballot from ``{contest_id: [option ids]}``."""
        contests = tuple(ContestSelection(c, tuple(s)) for c, s in choices.items())
        return cls(election_id, credential, region_id, contests, **kwargs)

    def as_dict(self) -> dict:
        body = {
            "schema_version": SCHEMA_VERSION,
            "event_id": self.event_id,
            "election_id": self.election_id,
            "credential": self.credential,
            "region_id": self.region_id,
            "contests": [{"contest_id": c.contest_id, "selections": list(c.selections)}
                         for c in self.contests],
            "cast_at": utc_text(self.cast_at),
            "channel": self.channel,
        }
        if self.received_at is not None:
            body["received_at"] = utc_text(self.received_at)
        return body

    def to_json(self) -> bytes:
        return json.dumps(self.as_dict(), separators=(",", ":")).encode()

    @property
    def key(self) -> bytes:
        """Messages are keyed by credential: one voter's ballots stay in order on one partition."""
        return self.credential.encode()


# -- the event's form: the one check the casting API and the tally share ------------------

SLUG = re.compile(r"[a-z0-9][a-z0-9-]{0,62}")
UUID_TEXT = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")
CREDENTIAL_TEXT = re.compile(r"[0-9a-f]{32}")
# RFC 3339 date-time (JSON Schema's "date-time"), with its offset.
TIME_TEXT = re.compile(r"\d{4}-\d\d-\d\d[Tt]\d\d:\d\d:\d\d(?:\.\d+)?(?:[Zz]|[+-]\d\d:\d\d)",
                       re.ASCII)
FIELDS = ("schema_version", "event_id", "election_id", "credential", "region_id", "contests",
          "cast_at", "channel", "received_at")
# Fields an event must have (``received_at`` is optional: the server's record judges it).
REQUIRED_FIELDS = tuple(f for f in FIELDS if f != "received_at")
# A contest on a ballot: which contest, and the option ids chosen (in order, for ranked).
CONTEST_FIELDS = ("contest_id", "selections")
MAX_CONTESTS = 50
MAX_SELECTIONS = 100


class DuplicateField(ValueError):
    """A JSON object names a field twice (readers disagree on which one counts)."""


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    seen = dict(pairs)
    if len(seen) != len(pairs):
        names = [name for name, _value in pairs]
        raise DuplicateField(sorted({n for n in names if names.count(n) > 1})[0])
    return seen


def loads_event(value: bytes | str) -> Any:
    """The JSON value of a message, refusing an object that names a field twice
    (``DuplicateField``); ``ValueError`` or ``RecursionError`` when it is not JSON."""
    return json.loads(value, object_pairs_hook=_no_duplicates)


def _is_id(value: Any) -> bool:
    return isinstance(value, str) and SLUG.fullmatch(value) is not None


def _is_time(value: Any) -> bool:
    if not isinstance(value, str) or not TIME_TEXT.fullmatch(value):
        return False
    try:
        datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return False
    return True



def event_problem(event: Any) -> str | None:
    """Why ``event`` (a JSON value) is not a vote event of ``SCHEMA_VERSION``, or None.

    The one check of an event's form: the casting API answers 400 when it finds a problem
    and the tally rejects the event as ``malformed`` with it as the detail. It says what
    ``schemas/vote_event.schema.json`` says (a test checks they agree), and what a schema
    cannot: a contest given twice.
    """
    if not isinstance(event, dict):
        return "not a JSON object"
    unknown = sorted(set(event) - set(FIELDS))
    if unknown:
        return f"unknown field {unknown[0]!r}"
    version = event.get("schema_version")
    if isinstance(version, bool) or not isinstance(version, int | float):
        return "schema_version is missing or not a number"
    if version != SCHEMA_VERSION:
        return f"schema_version {version} is not supported"
    if not (isinstance(event.get("event_id"), str) and UUID_TEXT.fullmatch(event["event_id"])):
        return "event_id is missing or not a UUID"
    if "election_id" not in event or event["election_id"] is None:
        return "election_id is missing"
    if not _is_id(event["election_id"]):
        return "election_id is not an id (a-z, 0-9, -; at most 63)"
    credential = event.get("credential")
    if not (isinstance(credential, str) and CREDENTIAL_TEXT.fullmatch(credential)):
        return "credential is missing or not 32 hex characters"
    if "region_id" not in event or event["region_id"] is None:
        return "region_id is missing"
    if not _is_id(event["region_id"]):
        return "region_id is not an id"
    problem = _contests_problem(event.get("contests"))
    if problem is not None:
        return problem
    if event.get("channel") not in CHANNELS:
        return "channel is missing or not online, in_person or mail"
    if "cast_at" not in event:
        return "cast_at is missing"
    if not _is_time(event["cast_at"]):
        return "cast_at is not a time"
    if "received_at" in event and not _is_time(event["received_at"]):
        return "received_at is not a time"
    return None


@dataclass(frozen=True)
class ReadEvent:
    """What the tally takes from one message: the event's identifying fields (each where it
    has the right form, else None), its contests and channel (only when the event is
    well-formed) and why it is malformed (None when it is not)."""

    event_id: str | None
    election_id: str | None
    credential_sha256: str | None
    receipt: str | None
    contests: list[dict] | None
    problem: str | None
    channel: str | None = None


def read_event(value: bytes | None) -> ReadEvent:
    """One message as the tally reads it, judged by ``event_problem``."""
    if value is None:
        return ReadEvent(None, None, None, None, None, "not a JSON object")
    try:
        event = loads_event(value)
    except DuplicateField as err:
        return ReadEvent(None, None, None, None, None, f"field {err.args[0]!r} appears twice")
    except (ValueError, UnicodeDecodeError, RecursionError):
        return ReadEvent(None, None, None, None, None, "not a JSON object")
    if not isinstance(event, dict):
        return ReadEvent(None, None, None, None, None, "not a JSON object")
    problem = event_problem(event)
    event_id, credential = event.get("event_id"), event.get("credential")
    event_id = event_id if isinstance(event_id, str) else None
    credential = credential if isinstance(credential, str) else None
    election_id = event.get("election_id") if _is_id(event.get("election_id")) else None
    return ReadEvent(
        event_id, election_id,
        credential_sha256(credential) if credential is not None else None,
        receipt_of(event_id, credential) if event_id and credential is not None else None,
        event["contests"] if problem is None else None,
        problem,
        event["channel"] if problem is None else None)


def _contests_problem(contests: Any) -> str | None:
    """Why an event's ``contests`` are not a ballot's (the part of ``event_problem`` the
    schema cannot say is the last: a contest given twice)."""
    if not isinstance(contests, list):
        return "contests is missing or not a list"
    if len(contests) > MAX_CONTESTS:
        return f"more than {MAX_CONTESTS} contests"
    for contest in contests:
        if not isinstance(contest, dict) or "contest_id" not in contest or \
                "selections" not in contest:
            return "a contest lacks contest_id or selections"
        if set(contest) - set(CONTEST_FIELDS):
            return "a contest has a field other than contest_id and selections"
        selections = contest["selections"]
        if not isinstance(selections, list):
            return "a contest's selections are not a list"
        if len(selections) > MAX_SELECTIONS:
            return f"a contest has more than {MAX_SELECTIONS} selections"
        if not _is_id(contest["contest_id"]) or not all(_is_id(s) for s in selections):
            return "a contest_id or selection is not an id"
    ids = [c["contest_id"] for c in contests]
    if len(set(ids)) != len(ids):
        return "a contest appears twice"
    return None


def credential_digest(credential: str) -> bytes:
    """A credential's SHA-256: what the roll stores, and what a ballot's credential is
    matched by (the credential itself is kept nowhere)."""
    return hashlib.sha256(credential.encode(errors="surrogatepass")).digest()


def credential_sha256(credential: str) -> str:
    """:func:`credential_digest` in hex, as lookups and rejected events carry it."""
    return credential_digest(credential).hex()


def receipt_of(event_id: str, credential: str) -> str:
    """A ballot's receipt: what its voter checks it by, naming neither them nor the ballot."""
    text = f"receipt:{event_id}:{credential}"
    return hashlib.sha256(text.encode(errors="surrogatepass")).hexdigest()
