"""The vote event: one JSON message per ballot on the votes topic, keyed by credential.

``schemas/vote_event.schema.json`` is the contract; ``docs/events.md`` documents it for
anyone producing events with any Kafka client.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cache
from pathlib import Path

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
