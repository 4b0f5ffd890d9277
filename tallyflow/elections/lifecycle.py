"""Every status change of an election: ``draft → scheduled → open → closed → certified``.

The DAGs, the CLI and certification move elections only through these functions; each
move is a conditional update from the status it expects (two movers cannot both win) and
leaves an entry in ``election_audit_log``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from tallyflow import db
from tallyflow.elections.audit import audited, record_audit
from tallyflow.elections.store import ElectionNotReady, UnknownElection, get_election
from tallyflow.registrations.roll import roll_fingerprint


def _move(url: str, election_id: str, from_status: str, to_status: str, actor: str) -> None:
    with db.connection(url) as conn, conn.cursor() as cur:
        if not _moved(cur, election_id, from_status, to_status):
            current = status_of(cur, election_id)
            raise ElectionNotReady(
                f"election {election_id!r} is {current}; only a {from_status} election "
                f"can become {to_status}"
            )
        record_audit(cur, election_id, to_status, actor, "ok")


def _moved(cur, election_id: str, from_status: str, to_status: str) -> bool:
    cur.execute(
        db.query("set_election_status"),
        {"election_id": election_id, "from_status": from_status, "to_status": to_status},
    )
    return cur.fetchone() is not None


def status_of(cur, election_id: str) -> str:
    """The election's status; raises :class:`UnknownElection`."""
    cur.execute(db.query("election_status"), {"election_id": election_id})
    row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    return row[0]


def schedule_election(url: str, election_id: str, *, actor: str = "api") -> None:
    """A draft becomes scheduled: it will open at ``opens_at`` if its roll is valid then."""
    _move(url, election_id, "draft", "scheduled", actor)


def opening_blockers(url: str, election_id: str, now: datetime | None = None) -> list[str]:
    """Why the election cannot open now (empty when it can)."""
    election = get_election(url, election_id)
    now = now or datetime.now(UTC)
    reasons = []
    if election["status"] != "scheduled":
        reasons.append(f"it is {election['status']}, not scheduled")
    if now < election["opens_at"]:
        reasons.append(f"its opening time {election['opens_at']:%Y-%m-%d %H:%M} UTC has not come")
    elif now >= election["closes_at"]:
        reasons.append(f"its closing time {election['closes_at']:%Y-%m-%d %H:%M} UTC has passed")
    if election["registered_voters"] == 0:
        reasons.append("it has no registered voters")
    runs = election["validation_runs"]
    updated = election["registrations_updated_at"]
    if not runs:
        reasons.append("its registrations have not been validated")
    else:
        for run in runs:
            if not run["is_passed"]:
                failed = "; ".join(
                    f["summary"] for f in run["failures"] if f["severity"] == "critical"
                )
                reasons.append(
                    f"the latest {run['suite_name']} validation "
                    f"({run['validated_at']:%Y-%m-%d %H:%M:%S} UTC) failed: {failed}"
                )
        if updated and min(r["validated_at"] for r in runs) < updated:
            reasons.append(
                "the registrations changed after their last validation; validate them again"
            )
    return reasons


def open_election(url: str, election_id: str, *, actor: str = "api") -> str:
    """Open a scheduled election with a valid roll, freezing the roll's fingerprint.

    Returns the fingerprint. Raises :class:`ElectionNotReady` with every reason otherwise;
    a refusal is recorded in the audit log too.
    """
    reasons = opening_blockers(url, election_id)
    if reasons:
        with db.connection(url) as conn, conn.cursor() as cur:
            record_audit(cur, election_id, "open", actor, "refused", {"reasons": reasons})
        raise ElectionNotReady(f"election {election_id!r} cannot open: " + "; ".join(reasons))
    digest = roll_fingerprint(url, election_id)
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("freeze_roll"),
                    {"election_id": election_id, "roll_fingerprint": digest})
        if cur.fetchone() is None:
            raise ElectionNotReady(f"election {election_id!r} changed status while opening")
        record_audit(cur, election_id, "open", actor, "ok", {"roll_fingerprint": digest})
    return digest


@dataclass(frozen=True)
class OpeningOutcome:
    election_id: str
    is_opened: bool
    detail: str


def open_due_elections(url: str, *, now: datetime | None = None,
                       actor: str = "scheduler") -> list[OpeningOutcome]:
    """Try to open every scheduled election whose opening time has come."""
    now = now or datetime.now(UTC)
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("due_elections"), {"now": now})
        due = [row[0] for row in cur.fetchall()]
    outcomes = []
    for election_id in due:
        try:
            digest = open_election(url, election_id, actor=actor)
            outcomes.append(OpeningOutcome(election_id, True, f"roll fingerprint {digest}"))
        except ElectionNotReady as err:
            outcomes.append(OpeningOutcome(election_id, False, str(err)))
    return outcomes


def close_election(url: str, election_id: str, *, actor: str) -> dict[str, Any]:
    """Close an open election now (or confirm it is closed): certification's first step.

    From then on the casting API answers 409 and the tally rejects ballots received later
    as ``closed``. Returns ``{"status", "closes_at"}``; a certified election comes back as
    ``certified`` untouched.
    """
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("election_status"), {"election_id": election_id})
        row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    status, closes_at = row
    if status == "certified":
        return {"status": status, "closes_at": closes_at.isoformat()}
    with audited(url, election_id, "certify.close", actor) as detail:
        if status not in ("open", "closed"):
            raise ElectionNotReady(
                f"election {election_id!r} is {status}: only an open or closed election "
                f"can be certified")
        if status == "open":
            with db.connection(url) as conn, conn.cursor() as cur:
                cur.execute(db.query("close_election"), {"election_id": election_id})
                moved = cur.fetchone()
            if moved is None:
                raise ElectionNotReady(f"election {election_id!r} changed status while closing")
            closes_at = moved[0]
        detail.update(was=status, closes_at=closes_at.isoformat())
    return {"status": "closed", "closes_at": closes_at.isoformat()}


def elections_to_certify(url: str) -> list[str]:
    """Elections to certify now: open past their closing time, or closed and not refused."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("closed_elections_due"))
        return [row[0] for row in cur.fetchall()]


def lock_closed(cur, election_id: str) -> None:
    """Lock a closed election's row for the caller's transaction (nothing for it commits
    meanwhile); raises :class:`ElectionNotReady` when it is not closed."""
    cur.execute(db.query("lock_election_status"), {"election_id": election_id})
    row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    if row[0] != "closed":
        raise ElectionNotReady(f"election {election_id!r} is {row[0]}, not closed")


def mark_certified(cur, election_id: str) -> None:
    """The locked, closed election becomes certified, in the caller's transaction (the one
    that writes its certificate)."""
    if not _moved(cur, election_id, "closed", "certified"):
        raise ElectionNotReady(f"election {election_id!r} is not closed")
