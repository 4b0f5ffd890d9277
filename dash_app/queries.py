"""Read-only queries behind the site's pages, testable without a browser."""

from __future__ import annotations

from psycopg2.extras import RealDictCursor

from tallyflow import db


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
