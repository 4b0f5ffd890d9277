"""An election's audit trail read back, and its chain of digests checked (migration 0022:
each entry carries the SHA-256 of the one before it and its own)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tallyflow import db
from tallyflow.elections.store import UnknownElection


@dataclass(frozen=True)
class AuditTrail:
    """An election's audit trail as recorded, and where its chain of digests breaks."""

    election_id: str
    entries: list[dict[str, Any]]
    breaks: list[str]  # empty when every entry is as recorded and none is missing

    def to_json(self) -> dict[str, Any]:
        return {"election_id": self.election_id, "intact": not self.breaks,
                "breaks": self.breaks,
                "entries": [{**e, "recorded_at": e["recorded_at"].isoformat()}
                            for e in self.entries]}


def audit_trail(url: str, election_id: str) -> AuditTrail:
    """Every entry of the election's trail, each one's digest checked against what it
    records and against the entry before it; raises ``UnknownElection``."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("election_status"), {"election_id": election_id})
        if cur.fetchone() is None:
            raise UnknownElection(election_id)
        cur.execute(db.query("audit_trail"), {"election_id": election_id})
        columns = [c.name for c in cur.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]
    breaks, previous = [], None
    for row in rows:
        if row.pop("recomputed_sha256") != row["entry_sha256"]:
            breaks.append(f"entry {row['audit_id']} ({row['action']}) is not as it was "
                          "recorded: its digest differs")
        if row["previous_sha256"] != previous:
            breaks.append(f"entry {row['audit_id']} ({row['action']}) does not follow the "
                          "entry before it: an entry was removed or changed")
        previous = row["entry_sha256"]
    return AuditTrail(election_id, rows, breaks)
