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
