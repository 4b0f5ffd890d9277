"""Tabulation, the seeded lot and the certificate, from literal figures."""

from __future__ import annotations

import hashlib
import json

import pytest

from tallyflow.certification.certificate import build_certificate, certificate_digest
from tallyflow.certification.page import certificate_html
from tallyflow.elections.definition import canonical_json
from tallyflow.tabulation import contest_result, elect, lot_order

ROLL = "ab" * 32


def _lot_key(contest_id: str, option_id: str) -> str:
    """The documented rule, written out again here."""
    seed = hashlib.sha256(f"tallyflow-lot|{ROLL}|{contest_id}".encode()).hexdigest()
    return hashlib.sha256(f"{seed}|{option_id}".encode()).hexdigest()


@pytest.mark.fast
def test_plurality_with_no_tie_elects_the_most_votes():
    assert elect("mayor", {"ann": 5, "bob": 9, "cy": 2}, 1, ROLL) == (["bob"], None)
    assert elect("council", {"ann": 5, "bob": 9, "cy": 2}, 2, ROLL) == (["bob", "ann"], None)


@pytest.mark.fast
def test_a_tie_within_the_seats_needs_no_lot():
    winners, tie = elect("council", {"ann": 5, "bob": 5, "cy": 2}, 2, ROLL)

    assert sorted(winners) == ["ann", "bob"] and tie is None


@pytest.mark.fast
def test_a_tie_for_the_last_seat_is_broken_by_the_seeded_lot():
    winners, tie = elect("council", {"ann": 9, "bob": 4, "cy": 4, "dee": 4}, 2, ROLL)

    expected = min(["bob", "cy", "dee"], key=lambda o: _lot_key("council", o))
    assert winners == ["ann", expected]
    assert tie["options"] == ["bob", "cy", "dee"] and tie["votes"] == 4 and tie["seats"] == 1
    assert tie["won"] == [expected]
    assert tie["draw"] == sorted(["bob", "cy", "dee"], key=lambda o: _lot_key("council", o))


@pytest.mark.fast
def test_the_lot_is_reproducible_and_depends_on_the_roll():
    options = [f"option-{i}" for i in range(8)]

    first = lot_order(ROLL, "mayor", options)

    assert lot_order(ROLL, "mayor", list(reversed(options))) == first
    assert lot_order("cd" * 32, "mayor", options) != first
    assert lot_order(ROLL, "council", options) != first


@pytest.mark.parametrize(
    ("yes", "no", "threshold", "passes"),
    [
        (51, 49, "1/2", True),
        (50, 50, "1/2", False),  # a tie is not a majority
        (66, 34, "2/3", False),
        (200, 100, "2/3", True),  # exactly two thirds is enough
        (0, 0, "1/2", False),
    ],
)
@pytest.mark.fast
def test_yes_no_against_its_threshold(yes, no, threshold, passes):
    contest = {"contest_id": "q", "title": "Q", "kind": "yes_no", "seats": 1,
               "threshold": threshold,
               "options": [{"option_id": "yes", "name": "Yes", "party_id": None, "votes": yes},
                           {"option_id": "no", "name": "No", "party_id": None, "votes": no}]}

    result = contest_result(contest, {("contest_ballots", "q"): yes + no}, ROLL)

    assert result["passes"] is passes
    assert result["winners"] == (["yes"] if passes else ["no"])
    assert result["ballots"] == yes + no


@pytest.mark.fast
def test_approval_shares_are_of_all_votes_cast():
    contest = {"contest_id": "parks", "title": "Parks", "kind": "approval", "seats": 1,
               "threshold": None,
               "options": [{"option_id": "a", "name": "A", "party_id": None, "votes": 30},
                           {"option_id": "b", "name": "B", "party_id": None, "votes": 10}]}

    result = contest_result(contest, {}, ROLL)

    assert result["winners"] == ["a"]
    assert [o["share_percent"] for o in result["options"]] == ["75.00", "25.00"]


def _certificate(title: str = "Mayor") -> dict:
    contest = contest_result(
        {"contest_id": "mayor", "title": title, "kind": "plurality", "seats": 1,
         "threshold": None,
         "options": [{"option_id": "ann", "name": "<script>alert(1)</script>",
                      "party_id": None, "votes": 3},
                     {"option_id": "bob", "name": "Bob", "party_id": None, "votes": 3}]},
        {("contest_ballots", "mayor"): 6}, ROLL)
    return build_certificate(
        {"election_id": "e", "title": "<b>E</b>", "opens_at": "2026-11-03T07:00:00.000000Z",
         "closes_at": "2026-11-03T19:00:00.000000Z", "is_test": False,
         "definition_sha256": "d" * 64, "roll_fingerprint": ROLL},
        [contest],
        {"ballots": 6, "registered": 10, "turnout_percent": "60.00", "by_region": {"r": 6},
         "by_age_band_and_gender": {"18-24/female": 6}},
        {"closed": 1}, {"recount": {"cells_compared": 4, "cells_differing": 0}}, "votes",
        {1: 5, 0: 3}, {"validation_run_ids": [1], "reports": {}})


@pytest.mark.fast
def test_the_same_count_gives_the_same_certificate_and_digest():
    first, second = _certificate(), _certificate()

    assert canonical_json(first) == canonical_json(second)
    assert certificate_digest(first) == certificate_digest(second)
    assert certificate_digest(_certificate("Mayor of the town")) != certificate_digest(first)
    text = canonical_json(first)
    assert json.loads(text) == first and " " not in text.split('"tie_rule"')[0][:20]
    assert hashlib.sha256(text.encode()).hexdigest() == certificate_digest(first)
    assert first["final_offsets"]["partitions"] == {"0": 3, "1": 5}
    assert first["contests"][0]["tie"]["won"] == [
        min(["ann", "bob"], key=lambda o: _lot_key("mayor", o))]


@pytest.mark.fast
def test_the_certificate_page_shows_names_as_text():
    page = certificate_html(_certificate(), "f" * 64)

    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;b&gt;E&lt;/b&gt;" in page and "f" * 64 in page and "broken by lot" in page


def _styled_contest() -> dict:
    """A district contest that is also a primary, with its recount's marks and vote
    methods, as tabulate gives it."""
    contest = contest_result(
        {"contest_id": "council", "title": "Council", "kind": "plurality", "seats": 1,
         "threshold": None, "district_region_id": "ward-1", "district": "Ward 1",
         "party_id": "civic", "party": "Civic List",
         "ballots_by_vote_method": {"in_person": 50, "mail": 10, "online": 5},
         "options": [{"option_id": "ann", "name": "Ann", "party_id": "civic", "votes": 40,
                      "by_vote_method": {"in_person": 30, "mail": 10, "online": 0}},
                     {"option_id": "bob", "name": "Bob", "party_id": "civic", "votes": 25,
                      "by_vote_method": {"in_person": 20, "mail": 0, "online": 5}}]},
        {("contest_ballots", "council"): 65, ("contest_off_ballot", "council"): 2}, ROLL)
    return contest


@pytest.mark.fast
def test_the_certificate_shows_ballot_styles_off_ballot_marks_and_vote_methods():
    contest = _styled_contest()
    certificate = {**_certificate(), "contests": [contest]}

    page = certificate_html(certificate, "f" * 64)

    assert contest["off_ballot_ballots"] == 2
    assert "<h2>Council (Ward 1, Civic List primary)</h2>" in page
    assert "overvoted 0; off the ballot 2." in page
    assert ("<th>Option</th><th>Votes</th><th>In person</th><th>Mail</th><th>Online</th>"
            "<th>Share</th>") in page
    assert ("<td>Ann</td><td class='n'>40</td><td class='n'>30</td><td class='n'>10</td>"
            "<td class='n'>0</td>") in page
    assert "Ballots by vote method: In person 50; Mail 10; Online 5." in page
    hidden = {**contest, "ballots_by_vote_method": {"in_person": 50, "mail": "< 10",
                                                    "online": "< 10"}}
    assert "In person 50; Mail &lt; 10; Online &lt; 10." in certificate_html(
        {**_certificate(), "contests": [hidden]}, "f" * 64)
    # A certificate written before vote methods were kept still reads.
    older = certificate_html(_certificate(), "f" * 64)
    assert "<th>In person</th>" not in older and "off the ballot 0" in older


def test_tabulate_reads_the_ballot_style_and_the_recounts_vote_methods(postgres_url,
                                                                       new_election):
    from tallyflow import db
    from tallyflow.certification.tabulate import tabulate

    eid = new_election().election_id  # three-parties: the president, nine precincts
    cells = [("option", "president/ada-okafor", 40), ("option", "president/bruno-lind", 25),
             ("contest_ballots", "president", 65), ("contest_off_ballot", "president", 2),
             ("option_method", "president/ada-okafor/north-1/in_person", 25),
             ("option_method", "president/ada-okafor/north-2/in_person", 5),
             ("option_method", "president/ada-okafor/north-1/mail", 10),
             ("option_method", "president/bruno-lind/north-1/in_person", 20),
             ("option_method", "president/bruno-lind/north-1/online", 5),
             ("contest_method", "president/north-1/in_person", 45),
             ("contest_method", "president/north-2/in_person", 5),
             ("contest_method", "president/north-1/mail", 10),
             ("contest_method", "president/north-1/online", 5)]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update contests set district_region_id = 'north', party_id = 'harbour' "
                    "where election_id = %s", (eid,))
        cur.executemany("insert into recount_cells (election_id, metric, item, value) "
                        "values (%s, %s, %s, %s)", [(eid, *cell) for cell in cells])

    (president,) = tabulate(postgres_url, eid, actor="test")

    assert (president["district_region_id"], president["district"]) == ("north",
                                                                         "North District")
    assert (president["party_id"], president["party"]) == ("harbour", "Harbour Party")
    assert president["off_ballot_ballots"] == 2
    # The certificate is published: 5 online ballots are fewer than k (10), so online is
    # hidden, and mail beside it (or in-person minus the rest would give online away).
    assert president["ballots_by_vote_method"] == {"in_person": 50, "mail": "< 10",
                                                   "online": "< 10"}
    assert {o["option_id"]: o["by_vote_method"] for o in president["options"]} == {
        "ada-okafor": {"in_person": 30, "mail": "< 10", "online": "< 10"},
        "bruno-lind": {"in_person": 20, "mail": "< 10", "online": "< 10"},
        "chen-wei": {"in_person": 0, "mail": "< 10", "online": "< 10"}}
