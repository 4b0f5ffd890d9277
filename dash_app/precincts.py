"""Results precinct by precinct, for every contest: the JSON export's precinct level, the
precinct CSV in OpenElections' column layout, and the facts the NIST feed needs (the
region tree, the parties).

Small-cell rule: a precinct whose ballots are hidden in the turnout (``suppress``: fewer
than ``TALLYFLOW_SMALL_CELL`` ballots, plus the one that would give a single hidden precinct
away) has every count of every contest hidden too. Ranked contests are published
election-wide only (a mention at any rank is not a vote, and rankings per precinct stay
with the tally).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import psycopg2.extensions
from psycopg2.extras import RealDictCursor

from dash_app.results import suppress
from tallyflow import db

FACT_QUERIES = {"tree": "results_region_tree", "parties": "quality_parties",
                "option_parties": "results_option_parties",
                "votes": "results_precinct_votes"}


def load_precinct_facts(url: str, election_id: str) -> dict[str, list[dict]]:
    """The region tree, parties, options' parties and every precinct's votes per option,
    read in one snapshot."""
    with db.connection(url) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor(cursor_factory=RealDictCursor) as cur:
            facts = {}
            for name, query in FACT_QUERIES.items():
                cur.execute(db.query(query), {"election_id": election_id})
                facts[name] = [dict(row) for row in cur.fetchall()]
    return facts


def precinct_results(raw: dict[str, Any], document: dict[str, Any],
                     facts: dict[str, list[dict]]) -> list[dict[str, Any]]:
    """Per contest (ranked ones left out), per precinct: its ballots and each option's votes,
    or ``suppressed`` with no numbers. Nothing while the tallies are embargoed."""
    if document["embargoed"]:
        return []
    shown = suppress({r["region_id"]: int(r["ballots"]) for r in raw["regions"]})
    votes: dict[tuple[str, str], dict[str, int]] = {}
    for row in facts["votes"]:
        votes.setdefault((row["contest_id"], row["region_id"]), {})[row["option_id"]] = \
            int(row["votes"])
    contests = []
    for contest in document["contests"]:
        if contest["kind"] == "ranked":
            continue
        precincts = []
        for region in raw["regions"]:
            rid = region["region_id"]
            hidden = shown[rid].value is None
            counted = votes.get((contest["contest_id"], rid), {})
            precincts.append({
                "region_id": rid, "name": region["name"],
                "ballots": None if hidden else int(region["ballots"]),
                "suppressed": hidden,
                "votes": None if hidden else {o["option_id"]: counted.get(o["option_id"], 0)
                                              for o in contest["options"]},
            })
        contests.append({"contest_id": contest["contest_id"], "title": contest["title"],
                         "precincts": precincts})
    return contests


def _top_ancestors(tree: list[dict]) -> dict[str, dict]:
    """Each region's county: its nearest ancestor whose level is "county", else its root."""
    by_id = {r["region_id"]: r for r in tree}
    found = {}
    for region in tree:
        current = region
        while current["level"] != "county" and current["parent_region_id"] in by_id:
            current = by_id[current["parent_region_id"]]
        found[region["region_id"]] = current
    return found


OPENELECTIONS_COLUMNS = ["county", "precinct", "office", "district", "party", "candidate",
                         "votes", "suppressed"]


def openelections_csv(document: dict[str, Any], precincts: list[dict[str, Any]],
                      facts: dict[str, list[dict]]) -> str:
    """One row per precinct × contest × option, in OpenElections' columns (county, precinct,
    office, district, party, candidate, votes); a hidden precinct's rows have no votes and
    ``suppressed`` true. ``district`` is empty: every contest is on every ballot."""
    county = {rid: r["name"] for rid, r in _top_ancestors(facts["tree"]).items()}
    parties = {p["party_id"]: p["abbreviation"] for p in facts["parties"]}
    option_party = {(r["contest_id"], r["option_id"]): r["party_id"]
                    for r in facts["option_parties"]}
    options = {c["contest_id"]: c["options"] for c in document["contests"]}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OPENELECTIONS_COLUMNS)
    for contest in precincts:
        cid = contest["contest_id"]
        for precinct in contest["precincts"]:
            for option in options[cid]:
                party = parties.get(option_party.get((cid, option["option_id"])), "")
                votes = "" if precinct["suppressed"] else precinct["votes"][option["option_id"]]
                writer.writerow([county.get(precinct["region_id"], ""), precinct["name"],
                                 contest["title"], "", party, option["name"], votes,
                                 "true" if precinct["suppressed"] else "false"])
    return buffer.getvalue()
