"""The election audit log: who did what to an election, when, and how it went."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from psycopg2.extras import Json

from tallyflow import db


def record_audit(cur, election_id: str, action: str, actor: str, outcome: str,
                 detail: dict[str, Any] | None = None) -> None:
    """One entry, in the caller's transaction."""
    cur.execute(
        db.query("record_audit_entry"),
        {
            "election_id": election_id,
            "action": action,
            "actor": actor,
            "outcome": outcome,
            "detail": Json(detail or {}),
        },
    )


@contextlib.contextmanager
def audited(url: str, election_id: str, action: str, actor: str) -> Iterator[dict[str, Any]]:
    """Record the action's outcome in its own transaction: ``ok`` with what the block put in
    the yielded dict, or ``refused`` (an error with ``discrepancies``) / ``failed`` with
    why."""
    detail: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        yield detail
    except Exception as err:
        discrepancies = getattr(err, "discrepancies", None)
        if discrepancies is not None:
            _record(url, election_id, action, actor, "refused",
                    {"error": str(err), "discrepancies": discrepancies})
        else:
            _record(url, election_id, action, actor, "failed",
                    {"error": f"{type(err).__name__}: {err}"})
        raise
    detail.setdefault("seconds", round(time.perf_counter() - started, 3))
    _record(url, election_id, action, actor, "ok", detail)


def _record(url: str, election_id: str, action: str, actor: str, outcome: str,
            detail: dict[str, Any]) -> None:
    with db.connection(url) as conn, conn.cursor() as cur:
        record_audit(cur, election_id, action, actor, outcome,
                     json.loads(json.dumps(detail, default=str)))


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
    from tallyflow.elections.store import UnknownElection

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
