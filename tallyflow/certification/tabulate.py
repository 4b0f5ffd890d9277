"""Step 5: each contest's result from the recount (the rules: ``tallyflow.tabulation``)."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping
from typing import Any

from psycopg2.extras import RealDictCursor

from tallyflow import db
from tallyflow.certification.steps import step
from tallyflow.elections.layout import group_contests
from tallyflow.feeds.small_cells import shown, suppress
from tallyflow.rctab import summary
from tallyflow.tabulation import LOT_RULE, contest_result, share
from tallyflow.tabulation.reporting import VOTE_METHODS
from tallyflow.tabulation.runoff import DECIMAL_PLACES, rule_options, rule_text, runoff

# A contest's facts: its ballot style is its district and the party of its primary (None:
# every voter's), each with its name.
CONTEST_FIELDS = {"title": "title", "kind": "kind", "seats": "seats", "threshold": "threshold",
                  "district_region_id": "district_region_id", "district": "district_name",
                  "party_id": "primary_party_id", "party": "primary_party_name"}


def add_method_totals(contest: dict[str, Any],
                      methods: Mapping[tuple[str, str | None, str], int]) -> None:
    """The contest's ballots per vote method, and each option's votes per vote method
    (not a ranked contest's: a mention at any rank is not a vote), summed over every
    precinct from ``methods`` ((contest, option or None for its ballots, method) -> n).

    The certificate is published: a method with fewer than k of the contest's ballots is
    hidden ("< k"), and one more beside it, in its ballots and its options' votes alike,
    as the results site hides it (``tallyflow.feeds.small_cells.suppress``)."""
    cid = contest["contest_id"]
    cells = suppress({m: methods.get((cid, None, m), 0) for m in VOTE_METHODS})
    contest["ballots_by_vote_method"] = {m: shown(cell) for m, cell in cells.items()}
    if contest["kind"] != "ranked":
        for option in contest["options"]:
            option["by_vote_method"] = {
                m: cell.label if cell.value is None
                else methods.get((cid, option["option_id"], m), 0)
                for m, cell in cells.items()}


def tabulate(url: str, election_id: str, *, actor: str) -> list[dict[str, Any]]:
    """Each contest's result from the recount: votes, shares and winners (or, for yes/no,
    whether it passes; for a ranked contest, every round of its instant runoff, from the
    recounted rankings)."""
    with step(url, election_id, "tabulate", actor) as detail:
        with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(db.query("certification_contests"), {"election_id": election_id})
            rows = cur.fetchall()
            cur.execute(db.query("election_roll_fingerprint"), {"election_id": election_id})
            (fingerprint,) = cur.fetchone().values()
            cur.execute(db.query("recount_contest_cells"), {"election_id": election_id})
            marks = {(r["metric"], r["item"]): r["value"] for r in cur.fetchall()}
            cur.execute(db.query("recount_ranking_cells"), {"election_id": election_id})
            rankings: dict[str, Counter] = defaultdict(Counter)
            for r in cur.fetchall():
                contest_id, _region, ranking = r["item"].split("/", 2)
                rankings[contest_id][ranking] += r["value"]
            cur.execute(db.query("certification_method_totals"), {"election_id": election_id})
            methods = {(r["contest_id"], r["option_id"], r["vote_method"]): int(r["n"])
                       for r in cur.fetchall()}
        contests = group_contests(rows, CONTEST_FIELDS, {
            "option_id": "option_id", "name": "name", "party_id": "party_id", "votes": "votes"})
        for contest in contests:
            for option in contest["options"]:
                option["votes"] = int(option["votes"])
            add_method_totals(contest, methods)
        results = [ranked_result(c, rankings[c["contest_id"]], marks, fingerprint or "")
                   if c["kind"] == "ranked" else contest_result(c, marks, fingerprint or "")
                   for c in contests]
        detail.update(contests=len(results), ties=[r["contest_id"] for r in results
                                                   if r["tie"]])
    return results


def ranked_result(contest: dict[str, Any], rankings: Mapping[str, int],
                  marks: Mapping[tuple[str, str], int], fingerprint: str) -> dict[str, Any]:
    """A ranked contest's result from its recounted rankings (JSON text -> ballots): the
    first preferences as its options' votes, every round in RCTab's summary shape (so RCVis
    can draw it), the winner, and any tie drawn by lot."""
    result = contest_result({**contest, "kind": "plurality"}, marks, fingerprint)
    seats = int(contest.get("seats") or 1)
    counted = runoff(rankings, [o["option_id"] for o in contest["options"]], seats,
                     fingerprint, contest["contest_id"])
    first = counted.rounds[0].tally if counted else {}
    total = int(sum(first.values()))
    for option in result["options"]:
        option["votes"] = int(first.get(option["option_id"], 0))
        option["share_percent"] = f"{share(option['votes'], total):.2f}"
    result.update(
        kind="ranked", total_votes=total, winners=counted.winners if counted else [],
        rounds=summary(counted, {}, DECIMAL_PLACES)["results"] if counted else [],
        rule=rule_text(seats), rule_options=rule_options(seats),
        tie={"rule": LOT_RULE, "draws": counted.draws} if counted and counted.draws else None)
    return result

