"""Ballots waiting for their group of k, kept in PostgreSQL (``held_ballots``, migration
0021) instead of the broker.

A tally batch reads each event once. The counted ballots of a region that may not be
counted yet (``tallyflow.votes.secrecy.ballots_to_count``) are kept here, in the
transaction that moves the offsets past them; a later batch adds them to the new ballots
of their region, and the transaction that counts them deletes them. Rows are the batch's
per-event outcomes (``jobs.tally_transforms.outcomes``) as Arrow, and back.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import pyarrow as pa

from tallyflow import db

# The outcome columns a held ballot keeps; the others (reason, detail, value) are null for
# a counted ballot.
KEPT = ["partition", "offset", "election_id", "voter_id", "region_id", "age_band", "gender",
        "judged_at", "broker_timestamp", "receipt", "party_id", "vote_method", "selections",
        "marks"]


def pool(cur, cells: Iterable[tuple[str, str]], final_elections: Iterable[str],
         schema: pa.Schema) -> pa.Table:
    """The held ballots of ``cells`` (election, region) and of ``final_elections``, as
    outcome rows of ``schema``."""
    cells = sorted(set(cells))
    final_elections = sorted(set(final_elections))
    if not cells and not final_elections:
        return schema.empty_table()
    cur.execute(db.query("held_ballots_for_cells"), {
        "election_ids": [e for e, _r in cells], "region_ids": [r for _e, r in cells],
        "final_election_ids": final_elections})
    rows = cur.fetchall()
    columns = dict(zip(KEPT, zip(*rows, strict=True), strict=True)) if rows else {}
    arrays = []
    for field in schema:
        values = list(columns.get(field.name, [None] * len(rows)))
        if field.name == "marks":
            values = [json.loads(v) for v in values]
        arrays.append(pa.array(values, field.type))
    return pa.Table.from_arrays(arrays, schema=schema)


def rows(topic: str, held: pa.Table, epochs: dict[int, int]) -> list[tuple]:
    """``insert_held_ballots`` rows for outcome rows ``held``."""
    kept = held.select(KEPT).to_pylist()
    return [(topic, r["partition"], r["offset"], epochs.get(r["partition"], 0),
             r["election_id"], r["voter_id"], r["region_id"], r["age_band"], r["gender"],
             r["party_id"], r["vote_method"], r["judged_at"], r["broker_timestamp"],
             r["receipt"], r["selections"], json.dumps(r["marks"])) for r in kept]


def due(url: str) -> bool:
    """Whether a closed election has ballots waiting that a batch could count now, though
    no new event came (``final_count_elections``; the batch checks again under the casting
    locks)."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("final_count_elections"))
        return cur.fetchone() is not None


def waiting(url: str, election_id: str) -> int:
    """How many of the election's ballots wait for their group."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("election_ballots_waiting"), {"election_id": election_id})
        return cur.fetchone()[0]
