"""The election audit log: who did what to an election, when, and how it went."""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Iterator
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

