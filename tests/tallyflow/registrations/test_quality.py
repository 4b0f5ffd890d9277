"""Great Expectations suites: each defect in a small roll is caught by its expectation."""

from __future__ import annotations

import copy

import pandas as pd
import pytest

from tallyflow import db
from tallyflow.registrations.quality import RollRules, validate_frames, validate_registrations
from tallyflow.registrations.roll import seed_registrations

RULES = RollRules(
    election_id="small-town",
    voting_age=18,
    region_ids=frozenset({"town", "east", "west"}),
    precinct_ids=frozenset({"east", "west"}),
    party_ids=frozenset({"red", "blue"}),
)

VOTERS = [
    {"voter_id": "V1", "full_name": "Ann Lee", "normalised_name": "ann lee",
     "birth_date": "1980-01-01", "gender": "female", "region_id": "east",
     "registered_on": "2000-01-01", "age_on_election_day": 46},
    {"voter_id": "V2", "full_name": "Bob Ray", "normalised_name": "bob ray",
     "birth_date": "1990-05-05", "gender": "male", "region_id": "east",
     "registered_on": "2010-01-01", "age_on_election_day": 36},
    {"voter_id": "V3", "full_name": "Cy Moss", "normalised_name": "cy moss",
     "birth_date": "2000-09-09", "gender": "other", "region_id": "west",
     "registered_on": "2019-01-01", "age_on_election_day": 26},
]
PARTIES = [
    {"party_id": "red", "name": "Red", "abbreviation": "R", "colour": "#d55e00"},
    {"party_id": "blue", "name": "Blue", "abbreviation": "B", "colour": "#0072b2"},
]
CANDIDATES = [
    {"contest_id": "mayor", "option_id": "ann", "name": "Ann", "party_id": "red", "ballot_order": 1},
    {"contest_id": "mayor", "option_id": "bo", "name": "Bo", "party_id": None, "ballot_order": 2},
]
REGIONS = [
    {"region_id": "town", "name": "Town", "level": "town", "parent_region_id": None,
     "expected_voters": None, "registered_voters": 3, "roll_count": 3},
    {"region_id": "east", "name": "East", "level": "ward", "parent_region_id": "town",
     "expected_voters": 2, "registered_voters": 2, "roll_count": 2},
    {"region_id": "west", "name": "West", "level": "ward", "parent_region_id": "town",
     "expected_voters": None, "registered_voters": 1, "roll_count": 1},
]
CLEAN = {"voters": VOTERS, "parties": PARTIES, "candidates": CANDIDATES, "regions": REGIONS}


def _frames(tables: dict[str, list[dict]]) -> dict[str, pd.DataFrame]:
    return {name: pd.DataFrame(rows) for name, rows in tables.items()}


def _defect(table: str, row: int | None, **changes) -> dict[str, list[dict]]:
    tables = copy.deepcopy(CLEAN)
    if row is None:
        tables[table].append({**tables[table][0], **changes})
    else:
        tables[table][row].update(changes)
    return tables


@pytest.mark.fast
def test_a_clean_registration_passes_every_suite(tmp_path):
    results = validate_frames(_frames(CLEAN), RULES, tmp_path)

    assert [(r.suite_name, r.is_passed, r.failed_expectations, r.warned_expectations)
            for r in results] == [("parties", True, 0, 0), ("candidates", True, 0, 0),
                                  ("regions", True, 0, 0), ("voters", True, 0, 0)]
    assert all((tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site" / r.report_path)
               .is_file() for r in results)


@pytest.mark.parametrize(
    ("tables", "suite", "expectation", "column", "severity"),
    [
        pytest.param(_defect("voters", None, voter_id="V1", full_name="Zed", normalised_name="zed"),
                     "voters", "expect_column_values_to_be_unique", "voter_id", "critical",
                     id="duplicate-voter-id"),
        pytest.param(_defect("voters", 1, full_name=None), "voters",
                     "expect_column_values_to_not_be_null", "full_name", "critical",
                     id="missing-name"),
        pytest.param(_defect("voters", 2, birth_date="2010-01-01", age_on_election_day=16),
                     "voters", "expect_column_values_to_be_between", "age_on_election_day",
                     "critical", id="under-voting-age"),
        pytest.param(_defect("voters", 0, region_id="atlantis"), "voters",
                     "expect_column_values_to_be_in_set", "region_id", "critical",
                     id="unknown-region"),
        pytest.param(_defect("voters", None, voter_id="V9", full_name="ANN  LEE"),
                     "voters", "expect_compound_columns_to_be_unique",
                     ["normalised_name", "birth_date", "region_id"], "warning",
                     id="likely-duplicate-person"),
        pytest.param(_defect("candidates", 1, party_id="green"), "candidates",
                     "expect_column_values_to_be_in_set", "party_id", "critical",
                     id="unknown-party"),
        pytest.param(_defect("parties", 1, party_id="red"), "parties",
                     "expect_column_values_to_be_unique", "party_id", "critical",
                     id="duplicate-party-id"),
        pytest.param(_defect("regions", 1, registered_voters=5), "regions",
                     "expect_column_pair_values_to_be_equal",
                     ["registered_voters", "roll_count"], "critical", id="stale-count"),
        pytest.param(_defect("regions", 1, expected_voters=3), "regions",
                     "expect_column_pair_values_to_be_equal",
                     ["expected_voters", "roll_count"], "critical",
                     id="registrar-count-mismatch"),
        pytest.param(_defect("regions", 2, parent_region_id="nowhere"), "regions",
                     "expect_column_values_to_be_in_set", "parent_region_id", "critical",
                     id="unknown-parent-region"),
    ],
)
@pytest.mark.fast
def test_each_defect_is_caught_by_its_expectation(tmp_path, tables, suite, expectation, column,
                                                  severity):
    (result,) = validate_frames(_frames(tables), RULES, tmp_path, suites=(suite,))

    assert [(f["expectation"], f["column"], f["severity"]) for f in result.failures] == [
        (expectation, column, severity)
    ]
    assert result.is_passed is (severity == "warning")
    assert result.failures[0]["unexpected_count"] >= 1


@pytest.mark.fast
def test_an_empty_roll_fails(tmp_path):
    empty = pd.DataFrame(columns=list(VOTERS[0]))

    (result,) = validate_frames({"voters": empty}, RULES, tmp_path, suites=("voters",))

    assert not result.is_passed
    assert "the roll is not empty" in [f["summary"].split(":")[0] for f in result.failures]


def test_a_seeded_roll_passes_and_each_run_is_recorded(postgres_url, new_election, tmp_path):
    election = new_election()
    seed_registrations(postgres_url, election.election_id, 2_000, seed=5)

    results = validate_registrations(postgres_url, election.election_id, tmp_path)

    assert [(r.suite_name, r.is_passed, r.row_count) for r in results] == [
        ("parties", True, 3), ("candidates", True, 3), ("regions", True, 13), ("voters", True, 2_000)
    ]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select suite_name, is_passed, failed_expectations, report_url "
                    "from validation_runs where election_id = %s order by suite_name",
                    (election.election_id,))
        runs = cur.fetchall()
    assert [(s, p, f) for s, p, f, _url in runs] == [
        ("candidates", True, 0), ("parties", True, 0), ("regions", True, 0), ("voters", True, 0)
    ]
    docs = tmp_path / "gx" / "uncommitted" / "data_docs" / "local_site"
    assert all((docs / url).is_file() for *_rest, url in runs)
    assert election.election_id in (docs / "index.html").read_text()


@pytest.mark.fast
def test_failures_keep_counts_never_a_voters_name_or_birth_date(tmp_path):
    # A likely duplicate person (warning), an under-age voter and an unknown gender.
    tables = _defect("voters", None, voter_id="V9", full_name="ANN  LEE")
    tables["voters"][1].update(birth_date="2010-01-01", age_on_election_day=16)
    tables["voters"][2].update(gender="zz-unknown")

    results = validate_frames(_frames(tables), RULES, tmp_path, suites=("voters",))

    failures = results[0].failures
    assert {f["column"] if isinstance(f["column"], str) else tuple(f["column"])
            for f in failures} == {"age_on_election_day", "gender",
                                   ("normalised_name", "birth_date", "region_id")}
    assert all(f["unexpected_count"] >= 1 and f["sample"] == [] for f in failures)
    personal = ("ann lee", "ANN  LEE", "1980-01-01", "2010-01-01", "Bob Ray", "zz-unknown")
    written = [path for path in tmp_path.rglob("*") if path.is_file()]
    assert any(path.suffix == ".html" for path in written)  # the Data Docs were built
    for path in written:
        text = path.read_text(errors="replace")
        assert not [value for value in personal if value in text], path
    assert not [value for value in personal if value in repr(failures)]
