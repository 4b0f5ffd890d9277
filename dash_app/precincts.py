"""Results precinct by precinct, for every contest: the JSON export's precinct level, the
precinct CSV in OpenElections' column layout, and the facts the NIST feed needs (the
region tree, the parties).

A contest limited to a district is published in its district's precincts only.

Small-cell rule (``tallyflow.feeds.small_cells``): a contest's counts in a precinct are hidden
whole when the precinct's turnout is hidden (fewer than ``TALLYFLOW_SMALL_CELL`` ballots,
plus the one that would give a single hidden precinct away), when the contest's own
ballots there are that few (a primary's), and in one more of the contest's precincts when a
single hidden one could be worked out from its totals (``hidden_precincts``). Its counts by
vote method in a shown precinct are hidden per method by the same rule over the table of
its precincts × vote methods, whose rows (the precinct's votes) and columns (the votes by
method over every precinct) are both published (``hide_grid``). Ranked contests are
published election-wide only (a mention at any rank is not a vote, and rankings per
precinct stay with the tally).
"""

from __future__ import annotations

import csv
import io
from typing import Any

import psycopg2.extensions

from dash_app.ballot_styles import districts_of
from tallyflow import db
from tallyflow.feeds.small_cells import hidden_precincts, hide_grid, small_cell
from tallyflow.tabulation.reporting import VOTE_METHODS

FACT_QUERIES = {"tree": "results_region_tree", "parties": "quality_parties",
                "option_parties": "results_option_parties",
                "votes": "results_precinct_votes",
                "method_votes": "results_precinct_method_votes",
                "method_ballots": "results_precinct_contest_methods"}


def load_precinct_facts(url: str, election_id: str) -> dict[str, list[dict]]:
    """The region tree, parties, options' parties and every precinct's votes per option
    (in all and per vote method) and ballots per contest and vote method, read in one
    snapshot."""
    with db.connection(url) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor() as cur:
            facts = {name: db.rows_as_dicts(cur, query, {"election_id": election_id})
                     for name, query in FACT_QUERIES.items()}
    return facts


def _counts(rows: list[dict], key: tuple[str, ...], item: str, value: str) -> dict:
    """{key: {item: count}} from rows."""
    found: dict[tuple, dict[str, int]] = {}
    for row in rows:
        found.setdefault(tuple(row[k] for k in key), {})[row[item]] = int(row[value])
    return found


def precinct_results(raw: dict[str, Any], document: dict[str, Any],
                     facts: dict[str, list[dict]]) -> list[dict[str, Any]]:
    """Per contest (ranked ones left out), per precinct of its district: its ballots and
    each option's votes, in all and per vote method (``by_vote_method``: None when the
    contest was counted before vote methods were kept), or ``suppressed`` with no
    numbers. Nothing while the tallies are embargoed."""
    if document["embargoed"]:
        return []
    turnout = {r["region_id"]: int(r["ballots"]) for r in raw["regions"]}
    votes = _counts(facts["votes"], ("contest_id", "region_id"), "option_id", "votes")
    by_method = _counts(facts.get("method_votes") or [],
                        ("contest_id", "region_id", "vote_method"), "option_id", "votes")
    grids: dict[str, dict[tuple[str, str], int]] = {}
    for row in facts.get("method_ballots") or []:
        grids.setdefault(row["contest_id"], {})[(row["region_id"], row["vote_method"])] = \
            int(row["ballots"])
    districts = districts_of(raw)
    contests = []
    for contest in document["contests"]:
        if contest["kind"] == "ranked":
            continue
        cid = contest["contest_id"]
        regions = [r for r in raw["regions"]
                   if cid not in districts or r["region_id"] in districts[cid]]
        contests.append({"contest_id": cid, "title": contest["title"],
                         "precincts": _precincts(contest, regions, turnout, votes,
                                                 by_method, grids.get(cid))})
    return contests


def _precincts(contest: dict, regions: list[dict], turnout: dict[str, int], votes: dict,
               by_method: dict, grid: dict[tuple[str, str], int] | None) -> list[dict]:
    """One contest's precincts, each with its counts or ``suppressed``."""
    k = small_cell()
    cid, options = contest["contest_id"], [o["option_id"] for o in contest["options"]]
    own = [r["region_id"] for r in regions]
    ballots = None
    if grid is not None:
        ballots = dict.fromkeys(own, 0)
        for (rid, _method), n in grid.items():
            ballots[rid] = ballots.get(rid, 0) + n
    hidden = hidden_precincts(turnout, own, ballots, k)
    hidden_cells = hide_grid({(rid, m): grid.get((rid, m), 0) for rid in own
                              for m in VOTE_METHODS}, k, hidden) if grid is not None else set()
    precincts = []
    for region in regions:
        rid = region["region_id"]
        hide = rid in hidden
        counted = votes.get((cid, rid), {})
        precincts.append({
            "region_id": rid, "name": region["name"],
            "ballots": None if hide else turnout[rid],
            "suppressed": hide,
            "votes": None if hide else {o: counted.get(o, 0) for o in options},
            "by_vote_method": None if grid is None else {
                m: {"ballots": None, "votes": None, "suppressed": True}
                if (rid, m) in hidden_cells else
                {"ballots": grid.get((rid, m), 0), "suppressed": False,
                 "votes": {o: by_method.get((cid, rid, m), {}).get(o, 0) for o in options}}
                for m in VOTE_METHODS},
        })
    return precincts


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
                         "votes", "suppressed", *VOTE_METHODS]


def _method_votes(precinct: dict, option_id: str) -> list:
    """An option's votes in one precinct per vote method; empty where hidden or not
    counted by method."""
    methods = precinct["by_vote_method"]
    if precinct["suppressed"] or methods is None:
        return [""] * len(VOTE_METHODS)
    return ["" if methods[m]["suppressed"] else methods[m]["votes"][option_id]
            for m in VOTE_METHODS]


def openelections_csv(document: dict[str, Any], precincts: list[dict[str, Any]],
                      facts: dict[str, list[dict]]) -> str:
    """One row per precinct × contest × option, in OpenElections' columns (county, precinct,
    office, district, party, candidate, votes), then ``suppressed`` and the votes per vote
    method (``in_person``, ``mail``, ``online``). A contest limited to a district has rows
    in its district's precincts only, with the district's name in ``district``; ``party``
    is the candidate's party, or for a primary the primary's party (as OpenElections gives
    primaries). A hidden precinct's rows have no votes and ``suppressed`` true; a hidden
    vote-method cell is empty."""
    county = {rid: r["name"] for rid, r in _top_ancestors(facts["tree"]).items()}
    parties = {p["party_id"]: p["abbreviation"] for p in facts["parties"]}
    option_party = {(r["contest_id"], r["option_id"]): r["party_id"]
                    for r in facts["option_parties"]}
    contests = {c["contest_id"]: c for c in document["contests"]}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(OPENELECTIONS_COLUMNS)
    for contest in precincts:
        cid = contest["contest_id"]
        shown = contests[cid]
        for precinct in contest["precincts"]:
            for option in shown["options"]:
                party = parties.get(shown.get("party_id")
                                    or option_party.get((cid, option["option_id"])), "")
                votes = "" if precinct["suppressed"] else precinct["votes"][option["option_id"]]
                writer.writerow([county.get(precinct["region_id"], ""), precinct["name"],
                                 contest["title"], shown.get("district") or "", party,
                                 option["name"], votes,
                                 "true" if precinct["suppressed"] else "false",
                                 *_method_votes(precinct, option["option_id"])])
    return buffer.getvalue()
