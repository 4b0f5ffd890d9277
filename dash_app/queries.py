"""Read-only queries behind the site's pages, testable without a browser."""

from __future__ import annotations

from psycopg2.extras import RealDictCursor

from tallyflow import db
from tallyflow.elections.layout import group_contests


def component_health(url: str) -> list[dict]:
    """One row per platform component: its latest health check."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("latest_component_health"))
        return [dict(row) for row in cur.fetchall()]


def public_elections(url: str) -> list[dict]:
    """One row per election: id, title, status, test flag, opening and closing times."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("public_elections"))
        return [dict(row) for row in cur.fetchall()]


def recent_validation_runs(url: str, limit: int = 100) -> list[dict]:
    """The latest Great Expectations runs across the platform, newest first."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("recent_validation_runs"), {"limit": limit})
        return [dict(row) for row in cur.fetchall()]


def ballot_layout(url: str, election_id: str) -> dict | None:
    """An election's contests with their options, and its precincts, for the vote page."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("results_election"), {"election_id": election_id})
        election = cur.fetchone()
        if election is None:
            return None
        cur.execute(db.query("results_options"), {"election_id": election_id})
        options = cur.fetchall()
        cur.execute(db.query("results_regions"), {"election_id": election_id})
        precincts = [{"region_id": r["region_id"], "name": r["name"]} for r in cur.fetchall()]
    contests = group_contests(options, {"title": "contest_title", "kind": "kind",
                                        "seats": "seats"},
                              {"option_id": "option_id", "name": "name", "party": "party_name"})
    return {"election": dict(election), "contests": contests, "precincts": precincts}
