"""What the site tests share: the text a page shows, and what the aggregates of a small
election look like as the results page reads them (``load_results``'s shape)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tallyflow import db

T = datetime(2026, 11, 3, 7, tzinfo=UTC)


def page_text(component) -> str:
    """Every text in a Dash component tree, joined by spaces."""
    if isinstance(component, str):
        return component
    children = getattr(component, "children", None)
    if children is None:
        return ""
    if not isinstance(children, list):
        children = [children]
    return " ".join(page_text(child) for child in children)


def option_row(contest, option, votes, kind="plurality", seats=1, threshold=None,
               colour=None, name=None):
    """One row of ``results_options``."""
    return {"contest_id": contest, "contest_title": contest.title(), "kind": kind,
            "seats": seats, "threshold": threshold, "option_id": option,
            "name": name or option.title(), "party_name": None, "colour": colour,
            "votes": votes}


def raw_results(**changes) -> dict:
    """An open election's aggregates (two precincts, a mayor and a tram measure), with
    ``changes`` replacing whole parts."""
    raw = {
        "election": {"election_id": "e", "title": "E", "description": "", "status": "open",
                     "is_test": False, "is_tally_embargoed": False, "opens_at": T,
                     "closes_at": T, "roll_fingerprint": "ab" * 32,
                     "certificate_sha256": None, "certified_at": None},
        "options": [option_row("mayor", "ann", 501, colour="#111111"),
                    option_row("mayor", "bob", 499, name="<script>alert(1)</script>"),
                    option_row("tram", "yes", 70, kind="yes_no", threshold="2/3"),
                    option_row("tram", "no", 30, kind="yes_no", threshold="2/3")],
        "contest_ballots": [{"contest_id": "mayor", "ballots": 1000, "blank_ballots": 0,
                             "undervoted_ballots": 0, "overvoted_ballots": 0}],
        "regions": [{"region_id": "r1", "name": "One", "registered": 1500, "ballots": 1000},
                    {"region_id": "r2", "name": "Two", "registered": 500, "ballots": 0}],
        "map_contest": "mayor",
        "precinct_leaders": [{"region_id": "r1", "leader_option_id": "ann"}],
        "timeline": [{"minute": T, "cumulative_ballots": 400},
                     {"minute": T, "cumulative_ballots": 1000}],
        "demographics": [{"age_band": "18-24", "gender": "female", "ballots": 4},
                         {"age_band": "18-24", "gender": "male", "ballots": 496},
                         {"age_band": "25-34", "gender": "female", "ballots": 500}],
        "rejected": [{"reason": "duplicate", "events": 7}],
        "quality": [{"status": "ok", "checked_at": T, "failures": [], "report_url": "x.html"}],
        "pipeline": None,
    }
    raw.update(changes)
    return raw


@pytest.fixture
def counted_election(postgres_url, new_election):
    """An election with aggregates as the tally writes them (literal rows)."""
    election = new_election()
    eid = election.election_id
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("insert into option_totals values (%s, 'president', 'ada-okafor', 40), "
                    "(%s, 'president', 'bruno-lind', 25)", (eid, eid))
        cur.execute("insert into turnout_by_region values (%s, 'north-1', 65)", (eid,))
        cur.execute("insert into rejected_totals values (%s, 'duplicate', 3)", (eid,))
    return eid
