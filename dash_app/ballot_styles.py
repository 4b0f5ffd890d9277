"""Each contest's ballot style, electorate and vote-method split, as the results page and
the exports show them, from the rows ``dash_app.results.load_results`` read.

A contest limited to a district is on the ballots of that district's voters only, and a
party primary on those of the party's voters: its turnout is of its own electorate
(``contests.registered_voters``; the election's registered voters when the roll was not
counted for it), and its precincts are those of its district.

The vote-method split is published election-wide per contest and option under the
small-cell rule: a method whose ballots in the contest are fewer than k is hidden, and one
more when a single hidden method could be worked out from the contest's ballots.
"""

from __future__ import annotations

from typing import Any

from tallyflow.feeds.small_cells import hidden_precincts, shown, small_cell, suppress
from tallyflow.tabulation import share
from tallyflow.tabulation.reporting import VOTE_METHODS, contest_heading


def has_method_split(contest: dict) -> bool:
    """Whether a contest's options have votes by vote method to show (not ranked, and
    counted by vote method)."""
    return contest["kind"] != "ranked" and contest.get("ballots_by_vote_method") is not None


def districts_of(raw: dict) -> dict[str, set[str]]:
    """The precincts of each contest limited to a district (by contest id; a contest on
    every ballot has none)."""
    return {r["contest_id"]: set(r["district_precincts"] or [])
            for r in raw.get("contest_styles") or [] if r["district_region_id"]}


def map_precincts(raw: dict, contest: dict) -> tuple[set[str] | None, set[str]]:
    """For the leader map of ``contest``: the precincts of its district (None: it is on
    every ballot), and those whose leader the small-cell rule hides, judged by the
    contest's own ballots there (``hidden_precincts``, as the precinct export)."""
    district = districts_of(raw).get(contest["contest_id"])
    turnout = {r["region_id"]: int(r["ballots"]) for r in raw["regions"]}
    counted = raw.get("map_contest_ballots") or []
    ballots = {r["region_id"]: int(r["ballots"]) for r in counted} if counted else None
    own = [rid for rid in turnout if district is None or rid in district]
    return district, hidden_precincts(turnout, own, ballots, small_cell())


def _by_key(rows: list[dict], key: tuple[str, ...], value: str) -> dict[tuple, dict]:
    """Counts per vote method, for each ``key`` of the rows."""
    found: dict[tuple, dict[str, int]] = {}
    for row in rows:
        found.setdefault(tuple(row[k] for k in key), {})[row["vote_method"]] = int(row[value])
    return found


def add_styles(contests: list[dict], raw: dict[str, Any]) -> list[dict]:
    """``contests`` (``contest_results``), each with:

    - ``district``/``district_region_id`` and ``party``/``party_id`` (of its primary),
      None for every voter's, and ``heading``: its title with them;
    - ``completeness``: its ballots, its electorate (``registered``), turnout of it, and its
      district's precincts reporting (``regions_reporting`` of ``regions``);
    - ``off_ballot_ballots``: ballots that marked it though it was not on their ballot;
    - ``ballots_by_vote_method`` and each option's ``by_vote_method``: counts, or "< k"
      where the small-cell rule hides them; None where the contest has no counts by vote
      method (counted before they were kept), and for a ranked contest's options (a mention
      at any rank is not a vote).
    """
    styles = {r["contest_id"]: r for r in raw.get("contest_styles") or []}
    districts = districts_of(raw)
    counted = {r["contest_id"]: r for r in raw["contest_ballots"]}
    methods = _by_key(raw.get("contest_methods") or [], ("contest_id",), "ballots")
    votes = _by_key(raw.get("option_methods") or [], ("contest_id", "option_id"), "votes")
    turnout = {r["region_id"]: int(r["ballots"]) for r in raw["regions"]}
    everyone = sum(int(r["registered"]) for r in raw["regions"])
    styled = []
    for contest in contests:
        cid = contest["contest_id"]
        style = styles.get(cid, {})
        district = districts.get(cid)
        precincts = [rid for rid in turnout if district is None or rid in district]
        registered = style.get("registered_voters")
        registered = everyone if registered is None else int(registered)
        styled.append({
            **contest,
            **_method_split(contest, methods.get((cid,)), votes),
            "district": style.get("district_name"),
            "district_region_id": style.get("district_region_id"),
            "party": style.get("party_name"), "party_id": style.get("party_id"),
            "heading": contest_heading(contest["title"], style.get("district_name"),
                                       style.get("party_name")),
            "completeness": {
                "ballots": contest["ballots"], "registered": registered,
                "turnout_percent": round(share(contest["ballots"], registered), 2),
                "regions_reporting": sum(1 for rid in precincts if turnout[rid]),
                "regions": len(precincts)},
            "off_ballot_ballots": int(counted.get(cid, {}).get("off_ballot_ballots") or 0),
        })
    return styled


def _method_split(contest: dict, ballots: dict[str, int] | None,
                  votes: dict[tuple, dict[str, int]]) -> dict[str, Any]:
    """The contest's ballots per vote method and its options (each with its votes per
    vote method), the methods with too few ballots hidden."""
    if ballots is None:
        return {"ballots_by_vote_method": None,
                "options": [{**o, "by_vote_method": None} for o in contest["options"]]}
    cells = suppress({m: ballots.get(m, 0) for m in VOTE_METHODS})
    hidden = {m for m, cell in cells.items() if cell.value is None}
    cid = contest["contest_id"]
    return {
        "ballots_by_vote_method": {m: shown(cell) for m, cell in cells.items()},
        "options": [{**o, "by_vote_method": None if contest["kind"] == "ranked" else {
            m: cells[m].label if m in hidden else votes.get((cid, o["option_id"]), {}).get(m, 0)
            for m in VOTE_METHODS}} for o in contest["options"]],
    }
