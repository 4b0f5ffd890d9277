"""Elections in Postgres: create, read, and move through ``draft → scheduled → open``.

The Airflow DAGs, the CLI and tests all call these functions; none of them writes the
election tables directly. Every status change is recorded in ``election_audit_log``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from psycopg2.extras import Json, RealDictCursor, execute_values

from tallyflow import db
from tallyflow.elections.definition import Election

STATUSES = ("draft", "scheduled", "open", "closed", "certified")


class ElectionError(Exception):
    """An election operation was refused; the message says why."""


class UnknownElection(ElectionError, LookupError):
    def __init__(self, election_id: str) -> None:
        super().__init__(f"no election with id {election_id!r}")
        self.election_id = election_id


class ElectionExists(ElectionError):
    def __init__(self, election_id: str) -> None:
        super().__init__(
            f"an election with id {election_id!r} already exists; choose another id"
        )
        self.election_id = election_id


class ElectionNotReady(ElectionError):
    """The election cannot move to the requested status yet."""


def create_election(url: str, election: Election, *, actor: str = "api") -> str:
    """Store a checked election, its parties, regions, contests and options, as a draft."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            db.query("insert_election"),
            {
                "election_id": election.election_id,
                "title": election.title,
                "description": election.description,
                "opens_at": election.opens_at,
                "closes_at": election.closes_at,
                "is_tally_embargoed": election.is_tally_embargoed,
                "is_test": election.is_test,
                "voting_age": election.voting_age,
                "definition": Json(election.definition or {}),
                "definition_sha256": election.definition_sha256,
            },
        )
        if cur.fetchone() is None:
            raise ElectionExists(election.election_id)
        eid = election.election_id
        if election.parties:
            execute_values(
                cur,
                db.query("insert_parties"),
                [(eid, p.party_id, p.name, p.abbreviation, p.colour) for p in election.parties],
            )
        execute_values(
            cur,
            db.query("insert_regions"),
            [
                (eid, r.region_id, r.name, r.level, r.parent_region_id, r.population,
                 r.expected_voters, None if r.geometry is None else Json(r.geometry))
                for r in election.regions
            ],
        )
        execute_values(
            cur,
            db.query("insert_contests"),
            [
                (eid, c.contest_id, c.title, c.kind, c.seats,
                 _fraction_text(c.threshold), c.ballot_order)
                for c in election.contests
            ],
        )
        execute_values(
            cur,
            db.query("insert_contest_options"),
            [
                (eid, c.contest_id, o.option_id, o.name, o.party_id, o.ballot_order,
                 o.photo_url, o.bio)
                for c in election.contests
                for o in c.options
            ],
        )
        record_audit(cur, eid, "create", actor, "ok",
                     {"definition_sha256": election.definition_sha256})
    return election.election_id


def _fraction_text(value) -> str | None:
    return None if value is None else f"{value.numerator}/{value.denominator}"


def record_audit(cur, election_id: str, action: str, actor: str, outcome: str,
                 detail: dict[str, Any] | None = None) -> None:
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


def list_elections(url: str) -> list[dict[str, Any]]:
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("list_elections"))
        return [dict(row) for row in cur.fetchall()]


def get_election(url: str, election_id: str) -> dict[str, Any]:
    """The election row plus its latest registration checks; raises :class:`UnknownElection`."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("election_by_id"), {"election_id": election_id})
        row = cur.fetchone()
        if row is None:
            raise UnknownElection(election_id)
        election = dict(row)
        cur.execute(db.query("latest_validation_runs"), {"election_id": election_id})
        election["validation_runs"] = [dict(r) for r in cur.fetchall()]
        cur.execute("select count(*) from voters where election_id = %s", (election_id,))
        election["registered_voters"] = cur.fetchone()["count"]
    return election


def _move(url: str, election_id: str, from_status: str, to_status: str, actor: str) -> None:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(
            db.query("set_election_status"),
            {"election_id": election_id, "from_status": from_status, "to_status": to_status},
        )
        if cur.fetchone() is None:
            current = _status(cur, election_id)
            raise ElectionNotReady(
                f"election {election_id!r} is {current}; only a {from_status} election "
                f"can become {to_status}"
            )
        record_audit(cur, election_id, to_status, actor, "ok")


def _status(cur, election_id: str) -> str:
    cur.execute("select status from elections where election_id = %s", (election_id,))
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
    from tallyflow.registrations.roll import roll_fingerprint

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


def to_json(value: Any) -> str:
    """JSON for CLI output: times as ISO strings."""
    return json.dumps(value, indent=2, default=str, sort_keys=True)
