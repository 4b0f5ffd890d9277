"""Elections in Postgres: create and read them (``lifecycle`` moves them on).

The Airflow DAGs, the CLI and tests all call these functions; none of them writes the
election tables directly.
"""

from __future__ import annotations

import json
from typing import Any

from psycopg2.extras import Json, RealDictCursor, execute_values

from tallyflow import db
from tallyflow.elections.audit import record_audit
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
                 _fraction_text(c.threshold), c.ballot_order, c.district, c.party)
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
        cur.execute(db.query("registered_voters"), {"election_id": election_id})
        election["registered_voters"] = cur.fetchone()["n"]
    return election


def to_json(value: Any) -> str:
    """JSON for CLI output: times as ISO strings."""
    return json.dumps(value, indent=2, default=str, sort_keys=True)
