"""The live rounds of ranked contests: run by the tally inside the transaction of the batch
that counted new rankings, so the stored rounds always match the stored counts and no
reader ever tabulates (``tallyflow.tabulation.runoff`` holds the rule)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from tallyflow import db
from tallyflow.tabulation.runoff import live_rounds, runoff


def refresh_rounds(cur, contests: Iterable[tuple[str, str]]) -> None:
    """Re-run and store the rounds of each (election_id, contest_id), from its rankings as
    ``cur``'s transaction sees them."""
    for election_id, contest_id in sorted(set(contests)):
        key = {"election_id": election_id, "contest_id": contest_id}
        cur.execute(db.query("ranked_contest_candidates"), key)
        layout = cur.fetchall()
        if not layout:
            continue
        seats, fingerprint = layout[0][0], layout[0][2]
        cur.execute(db.query("ranking_contest_rankings"), key)
        stored = {ranking: int(n) for ranking, n in cur.fetchall()}
        result = runoff(stored, [row[1] for row in layout], seats, fingerprint or "",
                        contest_id)
        if result is None:
            continue
        cur.execute(db.query("store_ranked_rounds"), {
            **key, "ballots": sum(stored.values()), "rankings": len(stored),
            "rounds": json.dumps(live_rounds(result), separators=(",", ":"))})
