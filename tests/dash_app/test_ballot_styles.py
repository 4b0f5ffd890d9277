"""Ballot styles and vote methods on the results site and in its exports: each contest's
district, primary and electorate, its off-ballot marks, and its votes by vote method under
the small-cell rule (pure: literal rows; one test reads them from a real database)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from dash import html

import dash_app.app  # noqa: F401  (pages register with the app, so it comes first)
from dash_app import figures
from dash_app.precincts import openelections_csv, precinct_results
from dash_app.results import contest_results, results_csv, results_document
from tallyflow import db
from tallyflow.feeds.nist import election_report, problems
from tests.dash_app.conftest import option_row, page_text, raw_results

NOW = datetime(2026, 11, 3, 21, tzinfo=UTC)
METHODS = ("in_person", "mail", "online")

# Three precincts: One and Two in the East Ward, Three in the West Ward. The mayor is on
# every ballot, the council on the East Ward's, the civic contest is the Blue Party's
# primary. Votes per contest, precinct, vote method and option:
BY_METHOD = {
    "mayor": {"r1": {"in_person": {"ann": 200, "bob": 100}, "mail": {"ann": 100, "bob": 95},
                     "online": {"ann": 3, "bob": 2}},
              "r2": {"in_person": {"ann": 150, "bob": 130}, "mail": {"ann": 50, "bob": 50},
                     "online": {"ann": 60, "bob": 40}},
              "r3": {"in_person": {"ann": 120, "bob": 80}, "mail": {"ann": 30, "bob": 30},
                     "online": {"ann": 20, "bob": 20}}},
    "council": {"r1": {"in_person": {"cat": 190, "dan": 110}, "mail": {"cat": 100, "dan": 95},
                       "online": {"cat": 3, "dan": 2}},
                "r2": {"in_person": {"cat": 160, "dan": 120}, "mail": {"cat": 70, "dan": 30},
                       "online": {"cat": 77, "dan": 23}}},
    "civic": {"r1": {"in_person": {"eve": 30, "fay": 20}, "mail": {"eve": 6, "fay": 4},
                     "online": {"eve": 4, "fay": 1}},
              "r2": {"in_person": {"eve": 29, "fay": 19}, "mail": {"eve": 0, "fay": 5}},
              "r3": {"in_person": {"eve": 1, "fay": 1}}},
}
# The same facts as the aggregate tables hold them (one row per cell).
OPTION_METHOD_CELLS = [
    {"contest_id": c, "region_id": r, "vote_method": m, "option_id": o, "votes": n}
    for c, regions in BY_METHOD.items() for r, methods in regions.items()
    for m, votes in methods.items() for o, n in votes.items()]
CONTEST_METHOD_CELLS = [
    {"contest_id": c, "region_id": r, "vote_method": m, "ballots": sum(votes.values())}
    for c, regions in BY_METHOD.items() for r, methods in regions.items()
    for m, votes in methods.items()]

FACTS = {
    "tree": [{"region_id": "city", "name": "City", "level": "city", "parent_region_id": None},
             {"region_id": "east", "name": "East Ward", "level": "ward",
              "parent_region_id": "city"},
             {"region_id": "west", "name": "West Ward", "level": "ward",
              "parent_region_id": "city"},
             {"region_id": "r1", "name": "One", "level": "precinct", "parent_region_id": "east"},
             {"region_id": "r2", "name": "Two", "level": "precinct", "parent_region_id": "east"},
             {"region_id": "r3", "name": "Three", "level": "precinct",
              "parent_region_id": "west"}],
    "parties": [{"party_id": "blue", "name": "Blue Party", "abbreviation": "BLU",
                 "colour": "#0072B2"}],
    "option_parties": [{"contest_id": "mayor", "option_id": "ann", "party_id": "blue"},
                       {"contest_id": "mayor", "option_id": "bob", "party_id": None},
                       {"contest_id": "council", "option_id": "cat", "party_id": None},
                       {"contest_id": "council", "option_id": "dan", "party_id": None},
                       {"contest_id": "civic", "option_id": "eve", "party_id": None},
                       {"contest_id": "civic", "option_id": "fay", "party_id": None}],
    "votes": [{"contest_id": c, "region_id": r, "option_id": o, "votes": n}
              for c, r, o, n in [("mayor", "r1", "ann", 303), ("mayor", "r1", "bob", 197),
                                 ("mayor", "r2", "ann", 260), ("mayor", "r2", "bob", 220),
                                 ("mayor", "r3", "ann", 170), ("mayor", "r3", "bob", 130),
                                 ("council", "r1", "cat", 293), ("council", "r1", "dan", 207),
                                 ("council", "r2", "cat", 307), ("council", "r2", "dan", 173),
                                 ("civic", "r1", "eve", 40), ("civic", "r1", "fay", 25),
                                 ("civic", "r2", "eve", 29), ("civic", "r2", "fay", 24),
                                 ("civic", "r3", "eve", 1), ("civic", "r3", "fay", 1)]],
    "method_votes": OPTION_METHOD_CELLS,
    "method_ballots": CONTEST_METHOD_CELLS,
}


def _raw(**changes) -> dict:
    """The aggregates as ``load_results`` reads them (election-wide method sums)."""
    raw = raw_results(
        options=[option_row("mayor", "ann", 733), option_row("mayor", "bob", 547),
                 option_row("council", "cat", 600), option_row("council", "dan", 380),
                 option_row("civic", "eve", 70), option_row("civic", "fay", 50)],
        contest_ballots=[
            {"contest_id": "mayor", "ballots": 1280, "blank_ballots": 0,
             "undervoted_ballots": 0, "overvoted_ballots": 0, "off_ballot_ballots": 0},
            {"contest_id": "council", "ballots": 980, "blank_ballots": 0,
             "undervoted_ballots": 0, "overvoted_ballots": 0, "off_ballot_ballots": 4},
            {"contest_id": "civic", "ballots": 120, "blank_ballots": 0,
             "undervoted_ballots": 0, "overvoted_ballots": 0, "off_ballot_ballots": 0}],
        regions=[{"region_id": "r1", "name": "One", "registered": 900, "ballots": 500},
                 {"region_id": "r2", "name": "Two", "registered": 800, "ballots": 480},
                 {"region_id": "r3", "name": "Three", "registered": 400, "ballots": 300}],
        contest_styles=[
            {"contest_id": "mayor", "district_region_id": None, "district_name": None,
             "district_precincts": [], "party_id": None, "party_name": None,
             "registered_voters": None},
            {"contest_id": "council", "district_region_id": "east",
             "district_name": "East Ward", "district_precincts": ["r1", "r2"],
             "party_id": None, "party_name": None, "registered_voters": 1700},
            {"contest_id": "civic", "district_region_id": None, "district_name": None,
             "district_precincts": [], "party_id": "blue", "party_name": "Blue Party",
             "registered_voters": 300}],
        option_methods=[
            {"contest_id": c, "option_id": o, "vote_method": m, "votes": n}
            for c, o, m, n in [
                ("mayor", "ann", "in_person", 470), ("mayor", "ann", "mail", 180),
                ("mayor", "ann", "online", 83), ("mayor", "bob", "in_person", 310),
                ("mayor", "bob", "mail", 175), ("mayor", "bob", "online", 62),
                ("council", "cat", "in_person", 350), ("council", "cat", "mail", 170),
                ("council", "cat", "online", 80), ("council", "dan", "in_person", 230),
                ("council", "dan", "mail", 125), ("council", "dan", "online", 25),
                ("civic", "eve", "in_person", 60), ("civic", "eve", "mail", 6),
                ("civic", "eve", "online", 4), ("civic", "fay", "in_person", 40),
                ("civic", "fay", "mail", 9), ("civic", "fay", "online", 1)]],
        contest_methods=[
            {"contest_id": c, "vote_method": m, "ballots": n}
            for c, m, n in [("mayor", "in_person", 780), ("mayor", "mail", 355),
                            ("mayor", "online", 145), ("council", "in_person", 580),
                            ("council", "mail", 295), ("council", "online", 105),
                            ("civic", "in_person", 100), ("civic", "mail", 15),
                            ("civic", "online", 5)]],
        map_contest="council", precinct_leaders=[{"region_id": "r1", "leader_option_id": "cat"},
                                                 {"region_id": "r2", "leader_option_id": "cat"}],
        map_contest_ballots=[{"region_id": "r1", "ballots": 500},
                             {"region_id": "r2", "ballots": 480}])
    raw.update(changes)
    return raw


@pytest.mark.fast
def test_each_contest_has_its_district_primary_electorate_and_off_ballot_marks():
    mayor, council, civic = contest_results(_raw())

    assert (mayor["district"], mayor["party"], mayor["heading"]) == (None, None, "Mayor")
    # No electorate counted for the mayor: the election's registered voters.
    assert mayor["completeness"] == {"ballots": 1280, "registered": 2100,
                                     "turnout_percent": 60.95, "regions_reporting": 3,
                                     "regions": 3}
    assert (council["district"], council["district_region_id"]) == ("East Ward", "east")
    assert council["heading"] == "Council (East Ward)"
    assert council["completeness"] == {"ballots": 980, "registered": 1700,
                                       "turnout_percent": 57.65, "regions_reporting": 2,
                                       "regions": 2}
    assert council["off_ballot_ballots"] == 4 and mayor["off_ballot_ballots"] == 0
    assert (civic["party"], civic["party_id"]) == ("Blue Party", "blue")
    assert civic["heading"] == "Civic (Blue Party primary)"
    assert civic["completeness"]["turnout_percent"] == 40.0


@pytest.mark.fast
def test_votes_by_vote_method_election_wide_hide_a_method_with_too_few_ballots():
    mayor, _council, civic = contest_results(_raw())

    assert mayor["ballots_by_vote_method"] == {"in_person": 780, "mail": 355, "online": 145}
    assert mayor["options"][0]["by_vote_method"] == {"in_person": 470, "mail": 180,
                                                     "online": 83}
    # 5 online ballots in the primary: hidden, and mail too (else 120 - 100 - 15 = 5).
    assert civic["ballots_by_vote_method"] == {"in_person": 100, "mail": "< 10",
                                               "online": "< 10"}
    assert [o["by_vote_method"] for o in civic["options"]] == [
        {"in_person": 60, "mail": "< 10", "online": "< 10"},
        {"in_person": 40, "mail": "< 10", "online": "< 10"}]
    # Counted before vote methods were kept: no split rather than zeros.
    (old, *_rest) = contest_results(_raw(contest_methods=[], option_methods=[]))
    assert old["ballots_by_vote_method"] is None
    assert old["options"][0]["by_vote_method"] is None


@pytest.mark.fast
def test_the_json_and_csv_exports_carry_the_ballot_style_and_the_split():
    document = results_document(_raw())

    council = document["contests"][1]
    assert (council["district"], council["party"], council["off_ballot_ballots"]) == (
        "East Ward", None, 4)
    assert council["options"][0]["by_vote_method"] == {"in_person": 350, "mail": 170,
                                                       "online": 80}
    rows = list(csv.DictReader(io.StringIO(results_csv(document))))
    assert {(r["contest_id"], r["district"], r["primary_party"]) for r in rows} == {
        ("mayor", "", ""), ("council", "East Ward", ""), ("civic", "", "Blue Party")}


def _precincts(raw: dict | None = None) -> dict[str, list[dict]]:
    raw = raw or _raw()
    return {c["contest_id"]: c["precincts"]
            for c in precinct_results(raw, results_document(raw), FACTS)}


@pytest.mark.fast
def test_precinct_method_cells_under_k_are_hidden_with_their_complements():
    mayor = _precincts()["mayor"]

    one, two, three = (p["by_vote_method"] for p in mayor)
    # One: 5 online ballots (hidden), so mail too (One's votes are published). Online's
    # column then has one hidden cell: Three's online goes too, and so Three's mail.
    assert one == {"in_person": {"ballots": 300, "votes": {"ann": 200, "bob": 100},
                                 "suppressed": False},
                   "mail": {"ballots": None, "votes": None, "suppressed": True},
                   "online": {"ballots": None, "votes": None, "suppressed": True}}
    assert all(not cell["suppressed"] for cell in two.values())
    assert two["online"]["votes"] == {"ann": 60, "bob": 40}
    assert [m for m in METHODS if three[m]["suppressed"]] == ["mail", "online"]
    assert [p["votes"] for p in mayor] == [{"ann": 303, "bob": 197}, {"ann": 260, "bob": 220},
                                           {"ann": 170, "bob": 130}]


@pytest.mark.fast
def test_a_district_contest_is_published_in_its_precincts_and_a_primary_by_its_ballots():
    precincts = _precincts()

    council = precincts["council"]
    assert [p["region_id"] for p in council] == ["r1", "r2"]
    assert [[m for m in METHODS if not p["by_vote_method"][m]["suppressed"]]
            for p in council] == [["in_person"], ["in_person"]]
    # The primary had 2 ballots in Three (hidden) and 53 in Two (hidden too: else 2 would
    # follow from the primary's totals), whatever the precincts' turnout.
    civic = precincts["civic"]
    assert [p["suppressed"] for p in civic] == [False, True, True]
    assert civic[0]["votes"] == {"eve": 40, "fay": 25}
    assert civic[0]["by_vote_method"]["in_person"]["votes"] == {"eve": 30, "fay": 20}
    assert civic[1]["by_vote_method"]["in_person"]["suppressed"]


@pytest.mark.fast
def test_the_openelections_csv_has_vote_method_columns_districts_and_primaries():
    raw = _raw()
    document = results_document(raw)
    rows = list(csv.DictReader(io.StringIO(openelections_csv(
        document, precinct_results(raw, document, FACTS), FACTS))))

    assert list(rows[0]) == ["county", "precinct", "office", "district", "party",
                             "candidate", "votes", "suppressed", "in_person", "mail",
                             "online"]
    assert rows[0] == {"county": "City", "precinct": "One", "office": "Mayor", "district": "",
                       "party": "BLU", "candidate": "Ann", "votes": "303",
                       "suppressed": "false", "in_person": "200", "mail": "", "online": ""}
    bob_two = next(r for r in rows if (r["office"], r["precinct"], r["candidate"]) == (
        "Mayor", "Two", "Bob"))
    assert (bob_two["in_person"], bob_two["mail"], bob_two["online"]) == ("130", "50", "40")
    council = [r for r in rows if r["office"] == "Council"]
    assert {(r["precinct"], r["district"]) for r in council} == {("One", "East Ward"),
                                                                 ("Two", "East Ward")}
    civic = [r for r in rows if r["office"] == "Civic"]
    assert {r["party"] for r in civic} == {"BLU"}  # the primary's party
    assert len(rows) == 3 * 2 + 2 * 2 + 3 * 2


@pytest.mark.fast
def test_the_nist_report_counts_by_vote_method_per_district_and_primary():
    raw = _raw()
    document = results_document(raw)
    report = election_report(raw, document, precinct_results(raw, document, FACTS), FACTS,
                             generated_at=NOW)

    assert problems(report) == []
    mayor, council, civic = report["Election"][0]["Contest"]
    assert mayor["ElectionDistrictId"] == "gp-city" and "PrimaryPartyIds" not in mayor
    assert council["ElectionDistrictId"] == "gp-east"
    assert council["OtherCounts"][0]["GpUnitId"] == "gp-east"
    assert civic["PrimaryPartyIds"] == ["party-blue"]
    ann = mayor["ContestSelection"][0]["VoteCounts"]
    assert [(c["Type"], c.get("OtherType"), c["GpUnitId"], c["Count"],
             c.get("IsSuppressedForPrivacy", False)) for c in ann] == [
        ("total", None, "gp-city", 733, False), ("total", None, "gp-r1", 303, False),
        ("total", None, "gp-r2", 260, False), ("total", None, "gp-r3", 170, False),
        ("election-day", None, "gp-city", 470, False),
        ("election-day", None, "gp-r1", 200, False),
        ("election-day", None, "gp-r2", 150, False),
        ("election-day", None, "gp-r3", 120, False),
        ("absentee-mail", None, "gp-city", 180, False),
        ("absentee-mail", None, "gp-r1", 0, True),
        ("absentee-mail", None, "gp-r2", 50, False),
        ("absentee-mail", None, "gp-r3", 0, True),
        ("other", "online", "gp-city", 83, False), ("other", "online", "gp-r1", 0, True),
        ("other", "online", "gp-r2", 60, False), ("other", "online", "gp-r3", 0, True)]
    cat = council["ContestSelection"][0]["VoteCounts"]
    assert {c["GpUnitId"] for c in cat} == {"gp-east", "gp-r1", "gp-r2"}
    eve = civic["ContestSelection"][0]["VoteCounts"]
    assert [(c["Count"], c.get("IsSuppressedForPrivacy", False)) for c in eve
            if c["GpUnitId"] == "gp-city" and c["Type"] != "total"] == [
        (60, False), (0, True), (0, True)]


@pytest.mark.fast
def test_the_page_shows_headings_electorates_off_ballot_marks_and_a_method_chart():
    from dash_app.pages.election import page_parts, results_body

    raw = _raw()
    parts = page_parts(raw)

    text = page_text(results_body(raw, parts))
    assert "Council (East Ward)" in text and "Civic (Blue Party primary)" in text
    council = page_text(html.Div(parts["texts"]["council-details"]))
    assert "980 ballots; 0 blank; 0 overvoted; 4  off-ballot" in council  # 4 <abbr>
    assert "57.65% turnout of 1,700 registered in East Ward; 2 of 2 precincts" in council
    civic = page_text(html.Div(parts["texts"]["civic-details"]))
    assert "40.0% turnout of 300 registered Blue Party voters" in civic
    assert {"mayor-methods", "council-methods", "civic-methods"} <= set(parts["graphs"])
    table = page_text(html.Div(parts["texts"]["mayor-methods-table"]))
    assert "| Option | In person | Mail | Online |" in table
    assert "| Ann | 470 | 180 | 83 |" in table and "| Ballots | 780 | 355 | 145 |" in table
    assert "| Eve | 60 | \\< 10 | \\< 10 |" in page_text(
        html.Div(parts["texts"]["civic-methods-table"]))
    chart = {t["name"]: t for t in parts["graphs"]["civic-methods"]["data"]}
    assert list(chart) == ["In person", "Mail", "Online"]
    assert chart["In person"]["y"] == [60, 40]
    assert (chart["Mail"]["y"], chart["Mail"]["text"]) == ([0, 0], ["< 10", "< 10"])
    # The council's map table: Three is not in its district.
    precincts = page_text(html.Div(parts["texts"]["precinct-table"]))
    assert "| Three | 300 | 75.0% | not on the ballot here |" in precincts
    assert "| One | 500 | 55.6% | Cat |" in precincts


@pytest.mark.fast
def test_the_map_hides_a_primarys_leader_where_its_own_ballots_are_few():
    from dash_app.pages.election import page_parts

    raw = _raw(map_contest="civic",
               precinct_leaders=[{"region_id": r, "leader_option_id": "eve"}
                                 for r in ("r1", "r2", "r3")],
               map_contest_ballots=[{"region_id": "r1", "ballots": 65},
                                    {"region_id": "r2", "ballots": 53},
                                    {"region_id": "r3", "ballots": 2}])

    parts = page_parts(raw)

    table = page_text(html.Div(parts["texts"]["precinct-table"]))
    assert "| One | 500 | 55.6% | Eve |" in table
    assert "| Two | 480 | 60.0% | hidden: too few ballots |" in table
    assert "| Three | 300 | 75.0% | hidden: too few ballots |" in table
    colours = parts["graphs"]["map-leader"]["data"][0]["marker"]["color"]
    assert colours[1:] == ["#dddddd", "#dddddd"] and colours[0] != "#dddddd"
    assert figures.METHOD_COLOURS.keys() == set(METHODS)


def test_the_site_reads_styles_and_methods_from_the_aggregates(services_env, postgres_url,
                                                               counted_election):
    from dash_app.app import server

    eid = counted_election  # president: ada-okafor 40, bruno-lind 25, all in north-1
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update contests set district_region_id = 'north', party_id = 'harbour', "
                    "registered_voters = 120 where election_id = %s", (eid,))
        cur.execute("insert into contest_ballot_totals (election_id, contest_id, ballots, "
                    "off_ballot_ballots) values (%s, 'president', 65, 2)", (eid,))
        cur.execute("insert into option_region_totals values "
                    "(%s, 'president', 'ada-okafor', 'north-1', 40), "
                    "(%s, 'president', 'bruno-lind', 'north-1', 25)", (eid, eid))
        cur.execute(
            "insert into option_method_totals (election_id, contest_id, option_id, region_id, "
            "vote_method, votes) values (%(e)s, 'president', 'ada-okafor', 'north-1', "
            "'in_person', 30), (%(e)s, 'president', 'ada-okafor', 'north-1', 'mail', 10), "
            "(%(e)s, 'president', 'bruno-lind', 'north-1', 'in_person', 20), "
            "(%(e)s, 'president', 'bruno-lind', 'north-1', 'online', 5)", {"e": eid})
        cur.execute(  # the same summed over precincts, as the tally keeps it too
            "insert into option_vote_method_totals select election_id, contest_id, option_id, "
            "vote_method, sum(votes) from option_method_totals where election_id = %s "
            "group by 1, 2, 3, 4", (eid,))
        cur.execute(
            "insert into contest_method_totals (election_id, contest_id, region_id, "
            "vote_method, ballots) values (%(e)s, 'president', 'north-1', 'in_person', 50), "
            "(%(e)s, 'president', 'north-1', 'mail', 10), "
            "(%(e)s, 'president', 'north-1', 'online', 5)", {"e": eid})
    client = server.test_client()
    base = f"/api/v1/elections/{eid}"

    (president,) = client.get(f"{base}/results").json["contests"]

    assert (president["district"], president["party"]) == ("North District", "Harbour Party")
    assert president["completeness"]["registered"] == 120
    assert president["completeness"]["turnout_percent"] == 54.17
    assert president["off_ballot_ballots"] == 2
    # 5 online ballots: hidden, and mail with them (else 65 - 50 - 10 = 5).
    assert president["ballots_by_vote_method"] == {"in_person": 50, "mail": "< 10",
                                                   "online": "< 10"}
    assert president["options"][0]["by_vote_method"] == {"in_person": 30, "mail": "< 10",
                                                         "online": "< 10"}
    (precincts,) = client.get(f"{base}/results?level=precinct").json["precincts"]
    assert [p["region_id"] for p in precincts["precincts"]] == ["north-1", "north-2",
                                                                "north-3"]
    assert precincts["precincts"][0]["by_vote_method"]["in_person"] == {
        "ballots": 50, "suppressed": False,
        "votes": {"ada-okafor": 30, "bruno-lind": 20, "chen-wei": 0}}
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"{base}/results.precincts.csv").data.decode())))
    assert {(r["district"], r["party"]) for r in rows} == {("North District", "HP")}
    assert len(rows) == 3 * 3
    report = client.get(f"{base}/results.nist.json").json
    assert problems(report) == []
    (contest,) = report["Election"][0]["Contest"]
    assert contest["ElectionDistrictId"] == "gp-north"
    assert contest["PrimaryPartyIds"] == ["party-harbour"]
