"""The results page's numbers, figures and callbacks, and the results export."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
from dash import html, no_update

import dash_app.app  # noqa: F401  (pages register with the app, so it comes first)
from dash_app import figures
from dash_app.results import completeness, contest_results, results_document
from tallyflow import db
from tallyflow.feeds.small_cells import Cell, suppress
from tests.dash_app.conftest import option_row, page_text, raw_results


@pytest.mark.fast
def test_small_cells_are_hidden_and_cannot_be_recovered_by_subtraction():
    assert suppress({"a": 3, "b": 50, "c": 20}) == {
        "a": Cell(None, "< 10"), "b": Cell(50, "50"), "c": Cell(None, "< 10")}
    assert suppress({"a": 3, "b": 4, "c": 50}) == {
        "a": Cell(None, "< 10"), "b": Cell(None, "< 10"), "c": Cell(50, "50")}
    assert suppress({"a": 0, "b": 12}) == {"a": Cell(0, "0"), "b": Cell(12, "12")}
    assert suppress({"a": 5}, k=5) == {"a": Cell(5, "5")}


@pytest.mark.fast
def test_contest_results_leader_margin_and_threshold():
    mayor, tram = contest_results(raw_results(), too_close=0.5)

    assert mayor["leader"] == "Ann" and mayor["margin_points"] == 0.2 and mayor["too_close"]
    assert [o["share"] for o in mayor["options"]] == [50.1, 49.9]
    assert mayor["options"][0]["colour"] == "#111111"
    assert mayor["options"][1]["colour"] == "#e69f00"  # colour-blind-safe fallback
    assert tram["threshold_share"] == 66.67 and tram["threshold_met"] is True
    assert not contest_results(raw_results(), too_close=0.1)[0]["too_close"]


@pytest.mark.fast
def test_completeness_counts_regions_reporting():
    assert completeness(raw_results()) == {"ballots": 1000, "registered": 2000,
                                    "turnout_percent": 50.0, "regions_reporting": 1,
                                    "regions": 2, "ballots_waiting_for_group": 0}
    raw = raw_results()
    raw["election"] = {**raw["election"], "ballots_waiting": 7}
    assert completeness(raw)["ballots_waiting_for_group"] == 7


@pytest.mark.fast
def test_an_embargo_hides_tallies_until_the_close():
    raw = raw_results()
    raw["election"] = {**raw["election"], "is_tally_embargoed": True}

    document = results_document(raw)

    assert document["embargoed"] and document["contests"] == [] and document["rejected"] == {}
    assert document["completeness"]["ballots"] == 1000
    assert document["turnout_by_age_band_and_gender"]["18-24/female"] == "< 10"
    closed = {**raw["election"], "status": "closed"}
    assert results_document({**raw, "election": closed})["contests"]


@pytest.mark.fast
def test_the_page_says_how_many_ballots_wait_for_their_group_election_wide():
    from dash_app.pages.election import page_parts

    raw = raw_results()
    assert "waiting" not in str(page_parts(raw)["texts"]["completeness"])
    raw["election"] = {**raw["election"], "ballots_waiting": 7}
    shown = str(page_parts(raw)["texts"]["completeness"])
    assert "7" in shown and "waiting for their group" in shown
    assert results_document(raw)["completeness"]["ballots_waiting_for_group"] == 7


@pytest.mark.fast
def test_figures_from_literal_rows():
    from dash_app.pages.election import page_parts

    mayor = contest_results(raw_results())[0]

    bar = figures.totals_bar(mayor)
    # Largest last (top); a name's markup is shown as text (Plotly reads HTML in labels).
    assert bar["data"][0]["y"] == ["&lt;script&gt;alert(1)&lt;/script&gt;", "Ann"]
    assert bar["data"][0]["x"] == [499, 501]
    donut = figures.shares_donut(mayor)
    assert donut["data"][0]["values"] == [501, 499]
    assert figures.tile_positions(["b", "a", "c"]) == figures.tile_positions(["c", "b", "a"])
    tiles = figures.region_map(raw_results()["regions"], "leader", {"ann": "#111111"},
                               leaders={"r1": "ann"})
    assert tiles["data"][0]["marker"]["color"] == ["#111111", "#dddddd"]
    turnout = figures.region_map(raw_results()["regions"], "turnout", {})
    assert turnout["data"][0]["marker"]["color"] == [66.7, 0.0]
    assert turnout["data"][0]["hovertext"][0] == "One: 1,000 ballots of 1,500 registered"
    assert figures.timeline(raw_results()["timeline"])["data"][0]["y"] == [400, 1000]
    # The map's contest gets its leader map and the map's table equivalent.
    parts = page_parts(raw_results())
    assert {"map-leader", "map-turnout"} <= set(parts["graphs"])
    assert parts["mappable"] == [("mayor", "Mayor"), ("tram", "Tram")]
    table = page_text(html.Div(parts["texts"]["precinct-table"]))
    assert "Mayor: precinct by precinct" in table
    assert "| One | 1,000 | 66.7% | Ann |" in table
    assert "| Two | 0 | 0.0% | no votes yet |" in table
    # A name's Markdown is shown as text (bob's name is a script tag in these rows).
    bob = raw_results(precinct_leaders=[{"region_id": "r1", "leader_option_id": "bob"}])
    table = page_text(html.Div(page_parts(bob)["texts"]["precinct-table"]))
    assert "\\<script\\>alert\\(1\\)\\</script\\>" in table


@pytest.mark.fast
def test_the_page_shows_names_as_text_and_labels_official_results():
    from dash_app.pages.election import results_body

    text = page_text(results_body(raw_results()))
    assert "Unofficial" in text and "Too close to call: Ann leads by 0.2 points" in text
    assert "1,000" in text and "50.0%" in text and "1 of 2" in text
    assert "<script>alert(1)</script>" not in text  # a name is a figure label, not markup
    certified = {**raw_results()["election"], "status": "certified", "certificate_sha256": "cd" * 32}
    official = page_text(results_body(raw_results(election=certified)))
    assert "Official" in official and "cdcdcdcdcdcdcdcd…" in official


def test_a_poll_sends_only_what_changed(services_env, services_settings, postgres_url,
                                       counted_election):
    from dash import Patch

    from dash_app.pages.election import page_parts, plan_refresh
    from dash_app.results import load_results

    def poll(shown, graphs=(), texts=()):
        raw = load_results(services_settings.site_database_url, counted_election, "votes")
        return plan_refresh(raw, shown, list(graphs), list(texts))

    body, _graphs, _texts, version = poll(None)  # first poll: the whole page
    assert "Ada Okafor leads by" in page_text(body)
    raw = load_results(services_settings.site_database_url, counted_election, "votes")
    graphs, texts = list(page_parts(raw)["graphs"]), list(page_parts(raw)["texts"])

    same = poll(version, graphs, texts)  # nothing moved: nothing but no_update
    assert same[0] is no_update and set(map(id, same[1] + same[2])) == {id(no_update)}

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update option_totals set votes = 50 where election_id = %s "
                    "and option_id = 'bruno-lind'", (counted_election,))
    body, graph_updates, text_updates, newer = poll(version, graphs, texts)

    assert body is no_update and newer != version
    changed = {name for name, update in zip(graphs, graph_updates, strict=True)
               if update is not no_update}
    assert changed == {"president-bar", "president-donut"}  # the maps' leader is unchanged
    assert all(isinstance(graph_updates[graphs.index(n)], Patch) for n in changed)
    moved = {name: update for name, update in zip(texts, text_updates, strict=True)
             if update is not no_update}
    assert set(moved) == {"president-headline", "president-table"}
    assert moved["president-headline"].startswith("Bruno Lind leads by")

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("insert into rejected_totals values (%s, 'malformed', 1)",
                    (counted_election,))
    assert poll(newer, graphs, texts)[0] is no_update  # same sections: rejects were there
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update elections set status = 'closed' where election_id = %s",
                    (counted_election,))
    assert poll(newer, graphs, texts)[0] is not no_update  # new status: whole page


@pytest.mark.fast
def test_an_unknown_or_bad_election_id_gets_a_friendly_page():
    from dash_app.pages.election import layout

    assert "No such election" in page_text(layout("<script>"))
    assert "No such election" not in page_text(layout("fine-id"))


def test_results_export_as_json_and_csv(services_env, counted_election):
    from dash_app.app import server

    client = server.test_client()
    answer = client.get(f"/api/v1/elections/{counted_election}/results")

    assert answer.status_code == 200
    document = answer.json
    assert document["official"] is False and document["completeness"]["ballots"] == 65
    president = document["contests"][0]
    assert {o["option_id"]: o["votes"] for o in president["options"]} == {
        "ada-okafor": 40, "bruno-lind": 25, "chen-wei": 0}
    assert document["rejected"] == {"duplicate": 3}
    exported = client.get(f"/api/v1/elections/{counted_election}/results.csv")
    rows = list(csv.DictReader(io.StringIO(exported.data.decode())))
    assert exported.mimetype == "text/csv"
    assert {r["option_id"]: int(r["votes"]) for r in rows} == {
        "ada-okafor": 40, "bruno-lind": 25, "chen-wei": 0}
    assert client.get("/api/v1/elections/no-such/results").status_code == 404
    assert client.get("/api/v1/elections/Bad%20Id/results.csv").status_code == 404


def test_precinct_results_and_the_nist_feed_over_http(services_env, postgres_url,
                                                      counted_election):
    from dash_app.app import server
    from tallyflow.feeds.nist import problems

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("insert into option_region_totals values "
                    "(%s, 'president', 'ada-okafor', 'north-1', 40), "
                    "(%s, 'president', 'bruno-lind', 'north-1', 25)",
                    (counted_election, counted_election))
    client = server.test_client()
    base = f"/api/v1/elections/{counted_election}"

    precincts = client.get(f"{base}/results?level=precinct").json["precincts"]
    president = next(c for c in precincts if c["contest_id"] == "president")
    north = next(p for p in president["precincts"] if p["region_id"] == "north-1")
    assert north == {"region_id": "north-1", "name": north["name"], "ballots": 65,
                     "suppressed": False,
                     "votes": {"ada-okafor": 40, "bruno-lind": 25, "chen-wei": 0},
                     "by_vote_method": None}  # no counts by vote method in these rows
    rows = list(csv.DictReader(io.StringIO(
        client.get(f"{base}/results.precincts.csv").data.decode())))
    assert sum(int(r["votes"] or 0) for r in rows if r["office"] == president["title"]) == 65
    report = client.get(f"{base}/results.nist.json").json
    assert problems(report) == []
    assert report["Status"] == "unofficial-partial"
    bad = client.get(f"{base}/results?level=county")
    assert bad.status_code == 400 and "level must be one of" in bad.json["errors"][0]
    assert client.get("/api/v1/elections/no-such/results.nist.json").status_code == 404
    assert client.get("/api/v1/elections/no-such/results.precincts.csv").status_code == 404


@pytest.mark.fast
def test_the_map_hides_small_precincts_leader_and_count():
    regions = [{"region_id": "big", "name": "Big", "registered": 900, "ballots": 400},
               {"region_id": "tiny", "name": "Tiny", "registered": 20, "ballots": 3},
               {"region_id": "mid", "name": "Mid", "registered": 100, "ballots": 50}]

    leader = figures.region_map(regions, "leader", {"ann": "#111111", "bob": "#222222"},
                                leaders={"big": "ann", "tiny": "bob", "mid": "bob"})
    turnout = figures.region_map(regions, "turnout", {})

    # tiny is under 10 ballots; mid is hidden too, or tiny = total - big - mid
    assert leader["data"][0]["marker"]["color"] == ["#111111", "#dddddd", "#dddddd"]
    assert turnout["data"][0]["marker"]["color"] == [44.4, None, None]
    assert "Tiny: < 10 ballots" in turnout["data"][0]["hovertext"][1]


@pytest.mark.fast
def test_the_map_draws_supplied_geojson():
    square = {"type": "Polygon", "coordinates": [[[0, 0], [0, 1], [1, 1], [1, 0], [0, 0]]]}
    regions = [{"region_id": "a", "name": "A", "registered": 100, "ballots": 60,
                "geometry": square},
               {"region_id": "b", "name": "B", "registered": 100, "ballots": 40,
                "geometry": square}]

    figure = figures.region_map(regions, "turnout", {})

    trace = figure["data"][0]
    assert trace["type"] == "choropleth" and trace["locations"] == ["a", "b"]
    assert trace["z"] == [60.0, 40.0]
    assert [f["id"] for f in trace["geojson"]["features"]] == ["a", "b"]
    leader = figures.region_map(regions, "leader", {"ann": "#111111", "bob": "#222222"},
                                leaders={"a": "ann", "b": "bob"})
    assert leader["data"][0]["colorscale"] == [[0.0, "#111111"], [1.0, "#222222"]]


def test_an_election_with_geometry_gets_a_choropleth(services_env, services_settings,
                                                     postgres_url):
    import uuid

    from dash_app.results import load_results
    from tallyflow.elections.definition import parse_definition
    from tallyflow.elections.store import create_election

    def square(x: float) -> dict:
        return {"type": "Polygon",
                "coordinates": [[[x, 50], [x, 50.1], [x + 0.1, 50.1], [x + 0.1, 50], [x, 50]]]}

    definition = {
        "id": f"t-geo-{uuid.uuid4().hex[:8]}", "title": "Geo",
        "opens_at": "2026-11-03T07:00:00Z", "closes_at": "2026-11-03T19:00:00Z",
        "regions": [{"id": "town", "name": "Town", "level": "town"},
                    {"id": "west", "name": "West", "level": "ward", "parent": "town",
                     "geometry": square(0)},
                    {"id": "east", "name": "East", "level": "ward", "parent": "town",
                     "geometry": square(0.1)}],
        "contests": [{"id": "q", "title": "Q", "kind": "yes_no"}],
    }
    election_id = create_election(postgres_url, parse_definition(definition), actor="test")

    raw = load_results(services_settings.site_database_url, election_id, "votes")

    assert [r["geometry"] for r in raw["regions"]] == [square(0.1), square(0)]
    figure = figures.region_map(raw["regions"], "turnout", {})
    assert figure["data"][0]["type"] == "choropleth"


@pytest.mark.fast
def test_the_freshness_line_says_when_the_broker_log_was_replaced():
    from datetime import timedelta

    from dash_app.pages.election import freshness_text

    now = datetime.now(UTC)
    pipeline = {"last_batch_at": now - timedelta(seconds=3), "consumer_lag": 12,
                "freshness_ms": 900, "log_resets": 0, "last_log_reset_at": None}
    assert "replaced" not in freshness_text({"pipeline": pipeline})
    reset_at = datetime(2026, 11, 3, 20, 15, 7, tzinfo=UTC)
    text = freshness_text({"pipeline": {**pipeline, "log_resets": 4,
                                        "last_log_reset_at": reset_at}})
    assert "pipeline lag 12 events" in text
    assert "replaced 4 time(s), last at 20:15:07 UTC" in text


@pytest.mark.fast
def test_names_with_markup_are_drawn_as_plain_text_in_every_figure():
    contest = {"title": "Mayor <i>2026</i>", "options": [
        {"option_id": "ada", "name": "Ada <b>Lovelace</b>", "votes": 3, "share": 60.0,
         "colour": "#111111"},
        {"option_id": "bo", "name": "Bo <a href='https://x.example'>link</a> & co",
         "votes": 2, "share": 40.0, "colour": "#222222"}]}
    regions = [{"region_id": "r1", "name": "North <br>ward", "ballots": 50,
                "registered": 60}]

    drawn = [figures.totals_bar(contest), figures.shares_donut(contest),
             figures.region_map(regions, "leader", {"ada": "#111111"},
                                leaders={"r1": "ada"})]

    text = repr(drawn)
    assert "<" not in text.replace("<extra></extra>", "")
    assert "Ada &lt;b&gt;Lovelace&lt;/b&gt;" in text and "&amp; co" in text
    assert "North &lt;br&gt;ward" in text and "Mayor &lt;i&gt;2026&lt;/i&gt;: votes" in text


def test_a_certified_election_shows_the_certificates_numbers_not_the_live_cells(
        postgres_url, services_settings, counted_election):
    import json

    from dash_app.results import load_results

    eid = counted_election  # live cells: ada-okafor 40, bruno-lind 25
    certificate = {"contests": [{
        "contest_id": "president", "ballots": 70, "blank_ballots": 1,
        "undervoted_ballots": 0, "overvoted_ballots": 2,
        "options": [{"option_id": "ada-okafor", "votes": 41},
                    {"option_id": "bruno-lind", "votes": 26}]}]}
    text = json.dumps(certificate)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("insert into certificates (election_id, certificate_sha256, canonical_json, "
                    "certificate, html) values (%s, %s, %s, %s, '')",
                    (eid, "ab" * 32, text, text))

    raw = load_results(services_settings.site_database_url, eid, "tallyflow.votes")

    votes = {row["option_id"]: row["votes"] for row in raw["options"]
             if row["contest_id"] == "president"}
    assert votes["ada-okafor"] == 41 and votes["bruno-lind"] == 26
    president = next(c for c in contest_results(raw) if c["contest_id"] == "president")
    assert (president["ballots"], president["overvoted_ballots"]) == (70, 2)


@pytest.mark.fast
def test_a_ranked_contest_shows_no_leader_votes_or_chart_until_it_can_be_tabulated():
    from dash_app.pages.election import page_parts
    from dash_app.results import RANKED_PENDING, results_csv

    ranked = [option_row("transit", "tram", 900, kind="ranked"),  # mentions at any rank
              option_row("transit", "bus", 400, kind="ranked")]
    raw = raw_results(options=ranked + raw_results()["options"],
               contest_ballots=[{"contest_id": "transit", "ballots": 950, "blank_ballots": 3,
                                 "undervoted_ballots": 0, "overvoted_ballots": 0}],
               regions=[{"region_id": "r1", "name": "One", "registered": 1500,
                         "ballots": 1000}])

    transit, mayor, _tram = contest_results(raw)
    assert (transit["leader"], transit["margin_points"], transit["leading"]) == (None, None, [])
    assert [o["votes"] for o in transit["options"]] == [None, None]
    assert transit["ballots"] == 950 and transit["note"] == RANKED_PENDING
    assert mayor["leader"] == "Ann"  # the other contests are unchanged
    parts = page_parts(raw)
    assert page_text(parts["texts"]["transit-headline"]) == RANKED_PENDING
    assert "leads" not in page_text(parts["texts"]["transit-headline"])
    assert "transit-bar" not in parts["graphs"] and "mayor-bar" in parts["graphs"]
    # The map shows a contest with votes per precinct, never the ranked one.
    assert "#111111" in str(parts["graphs"]["map-leader"])  # Ann's colour
    assert ("transit", "Transit") not in parts["mappable"]
    rows = list(csv.DictReader(io.StringIO(results_csv(results_document(raw)))))
    assert [(r["option_id"], r["votes"], r["share_percent"]) for r in rows
            if r["contest_id"] == "transit"] == [("tram", "", ""), ("bus", "", "")]


@pytest.mark.fast
def test_a_ranked_contest_with_counted_rankings_shows_its_rounds_and_transfers():
    from dash_app.pages.election import page_parts
    from dash_app.results import PROVISIONAL, results_csv
    from tallyflow.tabulation import lot_order
    from tallyflow.tabulation.runoff import live_rounds, runoff

    ranked = [option_row("transit", o, 0, kind="ranked") for o in ("tram", "bus", "rail")]
    counted = runoff({'["tram"]': 4, '["bus","tram"]': 3, '["rail","bus"]': 2, '["rail"]': 1},
                     ["tram", "bus", "rail"], 1, "ab" * 32, "transit")
    rankings = [{"contest_id": "transit", **live_rounds(counted)}]  # as the tally stores them
    raw = raw_results(options=ranked, rankings=rankings, contest_ballots=[
        {"contest_id": "transit", "ballots": 10, "blank_ballots": 0,
         "undervoted_ballots": 0, "overvoted_ballots": 0}])

    (transit,) = contest_results(raw)

    # Round 1: tram 4, bus 3, rail 3: bus and rail tie last, the seeded lot eliminates one.
    # Round 2: rail's ballots go to bus (5 of 9: elected) or bus's to tram (7 of 10).
    out = lot_order("ab" * 32, "transit", ["bus", "rail"])[-1]
    assert [o["votes"] for o in transit["options"]] == [4, 3, 3]  # first preferences
    assert transit["rounds"][0]["tally"] == {"tram": 4, "bus": 3, "rail": 3}
    assert transit["rounds"][0]["eliminated"] == [out]
    assert len(transit["rounds"]) == 2 and transit["note"] == PROVISIONAL
    assert transit["leader"] == ("Bus" if out == "rail" else "Tram")
    parts = page_parts(raw)
    headline = page_text(parts["texts"]["transit-headline"])
    assert headline == f"{transit['leader']} leads after 2 rounds"
    details = page_text(html.Div(parts["texts"]["transit-details"]))
    assert PROVISIONAL in details and "Round 2" in details
    rows = list(csv.DictReader(io.StringIO(results_csv(results_document(raw)))))
    assert [(r["round"], r["option_id"], r["votes"]) for r in rows if r["round"] == "2"] == [
        ("2", c, str(v)) for c, v in transit["rounds"][1]["tally"].items()]
    sankey = parts["graphs"]["transit-sankey"]["data"][0]
    assert sankey["type"] == "sankey" and sum(sankey["link"]["value"]) > 0


@pytest.mark.fast
def test_a_multi_seat_ranked_contest_shows_its_single_transferable_vote_rounds():
    from dash_app.pages.election import page_parts
    from tallyflow.tabulation.runoff import live_rounds, runoff

    ranked = [option_row("council", o, 0, kind="ranked", seats=2) for o in ("ann", "bo", "cy")]
    # 10 ballots, 2 seats: quota floor(10 / 3) + 1 = 4. Ann has 6: elected, her surplus of 2
    # moves on at 2/6 of each of her ballots (0.3333 each): all six rank Cy next.
    counted = runoff({'["ann","cy"]': 6, '["bo"]': 3, '["cy"]': 1}, ["ann", "bo", "cy"], 2,
                     "ab" * 32, "council")
    raw = raw_results(options=ranked, rankings=[{"contest_id": "council", **live_rounds(counted)}])

    (council,) = contest_results(raw)

    assert council["rounds"][0]["threshold"] == 4
    assert council["rounds"][0]["elected"] == ["ann"]
    assert council["rounds"][1]["tally"]["cy"] == pytest.approx(1 + 6 * 0.3333)
    assert council["rounds"][1]["eliminated"] == ["cy"]  # 2.9998 < Bo's 3
    assert council["leading"] == ["Ann", "Bo"]
    headline = page_text(page_parts(raw)["texts"]["council-headline"])
    assert headline == f"Ann, Bo lead after {len(council['rounds'])} rounds"


@pytest.mark.fast
def test_a_certified_ranked_contest_is_shown_from_its_certificate_rounds():
    from dash_app.results import as_certified
    from tallyflow.rctab import summary
    from tallyflow.tabulation.runoff import live_rounds, runoff

    ranked = [option_row("transit", o, 0, kind="ranked") for o in ("tram", "bus", "rail")]
    certified = runoff({'["tram"]': 4, '["bus","tram"]': 3, '["rail","bus"]': 2},
                       ["tram", "bus", "rail"], 1, "ab" * 32, "transit")
    live = runoff({'["tram"]': 9}, ["tram", "bus", "rail"], 1, "ab" * 32, "transit")
    certificate = {"contests": [{
        "contest_id": "transit", "kind": "ranked", "winners": certified.winners,
        "rounds": summary(certified, {}, 4)["results"],
        "options": [{"option_id": "tram", "votes": 4}, {"option_id": "bus", "votes": 3},
                    {"option_id": "rail", "votes": 2}], "ballots": 9}]}
    raw = raw_results(options=ranked, rankings=[{"contest_id": "transit", **live_rounds(live)}])
    raw["election"]["certificate_sha256"] = "cd" * 32

    (transit,) = contest_results(as_certified(raw, certificate))

    assert transit["rounds"] == live_rounds(certified)["rounds"]  # not the live rounds
    assert transit["leader"] == "Bus" and transit["note"] is None


@pytest.mark.fast
def test_the_sankey_carries_exhausted_ballots_in_one_row_and_loses_none():
    from dash_app.figures import transfers_sankey
    from tallyflow.tabulation.runoff import live_rounds, runoff

    ranked = [option_row("transit", o, 0, kind="ranked") for o in ("tram", "bus", "rail", "ferry")]
    counted = runoff({'["tram"]': 6, '["bus"]': 5, '["rail","bus"]': 3, '["ferry"]': 1,
                      '["ferry","rail"]': 1}, ["tram", "bus", "rail", "ferry"], 1, "ab" * 32,
                     "transit")
    (transit,) = contest_results(raw_results(options=ranked, rankings=[
        {"contest_id": "transit", **live_rounds(counted)}]))

    link = transfers_sankey(transit)["data"][0]
    labels = link["node"]["label"]
    inflow: dict[int, float] = {}
    for target, value in zip(link["link"]["target"], link["link"]["value"], strict=True):
        inflow[target] = inflow.get(target, 0) + value
    exhausted_in = sorted(v for node, v in inflow.items() if labels[node] == "Exhausted")
    # Ferry out (1 exhausts), then rail out (1 more + the 1 carried): one node per round.
    assert [r["exhausted"] for r in transit["rounds"]] == [0, 1, 2]
    assert exhausted_in == [1, 2]
    assert sum(inflow.values()) == sum(sum(r["tally"].values()) + r["exhausted"]
                                       for r in transit["rounds"][1:])


@pytest.mark.fast
def test_the_map_shows_the_chosen_contest_with_votes_per_precinct_or_the_first():
    from dash_app.results import map_contest_of

    options = [option_row("chair", "a", 0, kind="ranked"), option_row("mayor", "ann", 1),
               option_row("mayor", "bob", 1), option_row("tram", "yes", 1, kind="yes_no")]

    assert map_contest_of(options, None) == "mayor"
    assert map_contest_of(options, "tram") == "tram"
    assert map_contest_of(options, "chair") == "mayor"  # a ranked contest has no map
    assert map_contest_of(options, "nope") == "mayor"
    assert map_contest_of(options[:1], None) is None


# Each chart and the text that holds the same facts as a table.
TABLE_OF = {"bar": "table", "donut": "table", "sankey": "details",
            "methods": "methods-table"}
PAGE_TABLES = {"map-leader": "precinct-table", "map-turnout": "precinct-table",
               "rejected": "rejected-table", "timeline": "timeline-table",
               "demographics": "demographics-table"}


@pytest.mark.fast
def test_every_chart_has_a_table_equivalent():
    from dash_app.pages.election import page_parts
    from tallyflow.tabulation.runoff import live_rounds, runoff

    ranked = [option_row("chair", o, 0, kind="ranked") for o in ("ann", "bob", "cy")]
    counted = runoff({'["ann"]': 4, '["bob"]': 3, '["cy","bob"]': 2}, ["ann", "bob", "cy"],
                     1, "ab" * 32, "chair")
    raw = raw_results(options=raw_results()["options"] + ranked,
                      rankings=[{"contest_id": "chair", **live_rounds(counted)}],
                      contest_methods=[{"contest_id": "mayor", "vote_method": "mail",
                                        "ballots": 1000}],
                      option_methods=[{"contest_id": "mayor", "option_id": "ann",
                                       "vote_method": "mail", "votes": 501}])

    parts = page_parts(raw)

    for graph in parts["graphs"]:
        contest, _, kind = graph.rpartition("-")
        table = PAGE_TABLES.get(graph) or f"{contest}-{TABLE_OF[kind]}"
        assert table in parts["texts"], f"{graph} has no table ({table})"
    assert "mayor-methods" in parts["graphs"]
    assert "Ann | 501 | 50.1%" in page_text(html.Div(parts["texts"]["mayor-table"]))
    assert "Round 2" in page_text(html.Div(parts["texts"]["chair-details"]))
    assert "| duplicate | 7 |" in page_text(html.Div(parts["texts"]["rejected-table"]))
