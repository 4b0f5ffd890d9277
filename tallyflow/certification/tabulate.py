"""Step 5: each contest's result from the recount (the rules: ``tallyflow.tabulation``)."""

from __future__ import annotations

from typing import Any

from psycopg2.extras import RealDictCursor

from tallyflow import db
from tallyflow.certification.steps import CertificationRefused, step
from tallyflow.elections.layout import group_contests
from tallyflow.tabulation import contest_result


def tabulate(url: str, election_id: str, *, actor: str) -> list[dict[str, Any]]:
    """Each contest's result from the recount: votes, shares and winners (or, for yes/no,
    whether it passes). A ranked contest stops certification until ranked tabulation
    exists."""
    with step(url, election_id, "tabulate", actor) as detail:
        with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(db.query("certification_contests"), {"election_id": election_id})
            rows = cur.fetchall()
            cur.execute(db.query("election_roll_fingerprint"), {"election_id": election_id})
            (fingerprint,) = cur.fetchone().values()
            cur.execute(db.query("recount_contest_cells"), {"election_id": election_id})
            marks = {(r["metric"], r["item"]): r["value"] for r in cur.fetchall()}
        contests = group_contests(
            rows, {"title": "title", "kind": "kind", "seats": "seats", "threshold": "threshold"},
            {"option_id": "option_id", "name": "name", "party_id": "party_id", "votes": "votes"})
        for contest in contests:
            for option in contest["options"]:
                option["votes"] = int(option["votes"])
        ranked = [c["contest_id"] for c in contests if c["kind"] == "ranked"]
        if ranked:
            raise CertificationRefused(
                f"election {election_id!r} has ranked contests ({', '.join(ranked)}); "
                "ranked tabulation comes in a later release, so it cannot be certified yet")
        results = [contest_result(c, marks, fingerprint or "") for c in contests]
        detail.update(contests=len(results), ties=[r["contest_id"] for r in results
                                                   if r["tie"]])
    return results
