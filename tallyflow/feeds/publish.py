"""Keep what the results site serves: each new state of an election's results export
becomes the next published snapshot, chained to the one before (``tallyflow.feeds.chain``).
The table is append-only (migration 0017)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from psycopg2.extras import RealDictCursor

from tallyflow import db
from tallyflow.feeds.chain import GENESIS, content_of, etag, link, sha256_text


@dataclass(frozen=True)
class Published:
    version: int
    content_sha256: str
    chain_sha256: str

    @property
    def etag(self) -> str:
        return etag(self.version, self.content_sha256)


def latest(cur, election_id: str) -> Published | None:
    cur.execute(db.query("latest_published_snapshot"), {"election_id": election_id})
    row = cur.fetchone()
    return Published(*row) if row else None


def publish(url: str, election_id: str, document: Mapping[str, Any]) -> Published:
    """The published version of ``document``: the latest one when its content is the same,
    else a new version. Two processes publishing at once each get a version in the chain
    (the loser of a race for a version number takes the next one)."""
    content = content_of(document)
    content_sha = sha256_text(content)
    with db.connection(url) as conn, conn.cursor() as cur:
        for _attempt in range(5):
            last = latest(cur, election_id)
            if last is not None and last.content_sha256 == content_sha:
                return last
            version = 1 if last is None else last.version + 1
            previous = GENESIS if last is None else last.chain_sha256
            chain = link(previous, content_sha)
            cur.execute(db.query("publish_snapshot"), {
                "election_id": election_id, "version": version, "content": content,
                "content_sha256": content_sha, "previous_sha256": previous,
                "chain_sha256": chain})
            if cur.fetchone() is not None:
                conn.commit()
                return Published(version, content_sha, chain)
            conn.rollback()
    raise RuntimeError(f"could not publish a snapshot of {election_id}: too many races")


def snapshot(url: str, election_id: str, version: int) -> dict[str, Any] | None:
    """One published snapshot with its content (parsed under ``document``)."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("published_snapshot"),
                    {"election_id": election_id, "version": version})
        row = cur.fetchone()
    if row is None:
        return None
    return {**row, "document": json.loads(row["content"])}


def history(url: str, election_id: str) -> list[dict[str, Any]]:
    """Every published version's hashes and time, oldest first."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("published_history"), {"election_id": election_id})
        return [dict(r) for r in cur.fetchall()]
