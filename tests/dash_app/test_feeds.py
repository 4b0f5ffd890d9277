"""Precinct results, the OpenElections CSV and the NIST SP 1500-100 feed, from the results
page's aggregates (pure: literal rows; the HTTP routes are tested in test_results.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest

from dash_app.precincts import openelections_csv, precinct_results
from dash_app.results import results_document
from tallyflow.feeds.nist import election_report, problems
from tallyflow.tabulation.runoff import live_rounds, runoff
from tests.dash_app.conftest import option_row, raw_results

NOW = datetime(2026, 11, 3, 21, tzinfo=UTC)
FACTS = {
    "tree": [{"region_id": "city", "name": "City", "level": "city", "parent_region_id": None},
             {"region_id": "r1", "name": "One", "level": "precinct",
              "parent_region_id": "city"},
             {"region_id": "r2", "name": "Two", "level": "precinct",
              "parent_region_id": "city"},
             {"region_id": "r3", "name": "Three", "level": "polling district",
              "parent_region_id": "city"}],
    "parties": [{"party_id": "blue", "name": "Blue Party", "abbreviation": "BLU",
                 "colour": "#0072B2"}],
    "option_parties": [{"contest_id": "mayor", "option_id": "ann", "party_id": "blue"},
                       {"contest_id": "mayor", "option_id": "bob", "party_id": None}],
    "votes": [{"contest_id": "mayor", "option_id": "ann", "region_id": "r1", "votes": 300},
              {"contest_id": "mayor", "option_id": "bob", "region_id": "r1", "votes": 200},
              {"contest_id": "mayor", "option_id": "ann", "region_id": "r2", "votes": 201},
              {"contest_id": "mayor", "option_id": "bob", "region_id": "r2", "votes": 279},
              {"contest_id": "mayor", "option_id": "ann", "region_id": "r3", "votes": 3},
              {"contest_id": "tram", "option_id": "yes", "region_id": "r1", "votes": 70},
              {"contest_id": "tram", "option_id": "no", "region_id": "r1", "votes": 30}],
}


def _raw(**changes) -> dict:
    """Three precincts: 500 ballots, 480, and 3 (too few to publish)."""
    return raw_results(regions=[
        {"region_id": "r1", "name": "One", "registered": 900, "ballots": 500},
        {"region_id": "r2", "name": "Two", "registered": 800, "ballots": 480},
        {"region_id": "r3", "name": "Three", "registered": 10, "ballots": 3}], **changes)


@pytest.mark.fast
def test_precinct_results_cover_every_contest_and_hide_small_precincts_whole():
    raw = _raw()
    mayor, tram = precinct_results(raw, results_document(raw), FACTS)

    assert [p["votes"] for p in mayor["precincts"]] == [
        {"ann": 300, "bob": 200}, None, None]
    # One hidden (3 ballots), and the next smallest too, so 3 cannot be subtracted out.
    assert [p["suppressed"] for p in mayor["precincts"]] == [False, True, True]
    assert tram["precincts"][0]["votes"] == {"yes": 70, "no": 30}
    embargoed = _raw()
    embargoed["election"]["is_tally_embargoed"] = True
    assert precinct_results(embargoed, results_document(embargoed), FACTS) == []


@pytest.mark.fast
def test_the_precinct_csv_has_openelections_columns():
    raw = _raw()
    document = results_document(raw)
    rows = list(csv.DictReader(io.StringIO(openelections_csv(
        document, precinct_results(raw, document, FACTS), FACTS))))

    assert list(rows[0]) == ["county", "precinct", "office", "district", "party",
                             "candidate", "votes", "suppressed", "in_person", "mail",
                             "online"]
    # Counted before vote methods were kept: no split (test_ballot_styles has one).
    assert rows[0] == {"county": "City", "precinct": "One", "office": "Mayor",
                       "district": "", "party": "BLU", "candidate": "Ann", "votes": "300",
                       "suppressed": "false", "in_person": "", "mail": "", "online": ""}
    hidden = [r for r in rows if r["precinct"] == "Three"]
    assert hidden and all(r["votes"] == "" and r["suppressed"] == "true" for r in hidden)
    assert len(rows) == 3 * 2 + 3 * 2  # precincts x options, mayor and tram


def _report(raw: dict) -> dict:
    document = results_document(raw)
    return election_report(raw, document, precinct_results(raw, document, FACTS), FACTS,
                           generated_at=NOW)


@pytest.mark.fast
def test_the_nist_report_is_valid_and_holds_every_count():
    report = _report(_raw())

    assert problems(report) == []
    assert report["Status"] == "unofficial-partial" and report["Format"] == "precinct-level"
    (election,) = report["Election"]
    assert election["ElectionScopeId"] == "gp-city"
    units = {u["@id"]: u for u in report["GpUnit"]}
    assert units["gp-city"]["ComposingGpUnitIds"] == ["gp-r1", "gp-r2", "gp-r3"]
    assert (units["gp-r3"]["Type"], units["gp-r3"]["OtherType"]) == ("other",
                                                                    "polling district")
    assert "VotersParticipated" not in units["gp-r3"]  # hidden turnout stays hidden
    mayor, tram = election["Contest"]
    assert mayor["@type"] == "ElectionResults.CandidateContest"
    assert tram["@type"] == "ElectionResults.BallotMeasureContest"
    ann = mayor["ContestSelection"][0]["VoteCounts"]
    assert [(c["GpUnitId"], c["Count"], c.get("IsSuppressedForPrivacy", False))
            for c in ann] == [("gp-city", 501, False), ("gp-r1", 300, False),
                              ("gp-r2", 0, True), ("gp-r3", 0, True)]
    assert report["Party"][0]["Color"] == "0072b2"
    assert election["Candidate"][0]["PartyId"] == "party-blue"


@pytest.mark.fast
def test_a_certified_ranked_contest_reports_its_rounds_and_winners():
    ranked = [option_row("chair", o, 0, kind="ranked") for o in ("ann", "bob", "cy")]
    counted = runoff({'["ann"]': 4, '["bob"]': 3, '["cy","bob"]': 2}, ["ann", "bob", "cy"],
                     1, "ab" * 32, "chair")
    raw = _raw(options=ranked, rankings=[{"contest_id": "chair", **live_rounds(counted)}])
    raw["election"].update(status="certified", certificate_sha256="cd" * 32)

    report = _report(raw)

    assert problems(report) == []
    assert report["Status"] == "certified"
    (chair,) = report["Election"][0]["Contest"]
    assert chair["VoteVariation"] == "rcv"
    bob = chair["ContestSelection"][1]["VoteCounts"]
    assert [(c["Round"], c["Count"]) for c in bob] == [(1, 3), (2, 5)]
    status = {c["@id"]: c["PostElectionStatus"] for c in report["Election"][0]["Candidate"]}
    assert status == {"candidate-chair-ann": "defeated", "candidate-chair-bob": "winner",
                      "candidate-chair-cy": "defeated"}


@pytest.mark.fast
def test_the_checks_catch_a_report_that_breaks_the_schema_or_a_reference():
    report = _report(_raw())
    del report["Issuer"]
    report["Election"][0]["Candidate"][0]["PartyId"] = "party-nobody"

    found = problems(report)

    assert "(report): 'Issuer' is a required property" in found
    assert any("'party-nobody' is no @id" in p for p in found)
