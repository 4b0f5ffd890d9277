"""The Airflow trigger form's answers become a definition that passes the same checks."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tallyflow.elections.definition import DefinitionError, parse_definition
from tallyflow.elections.form import definition_from_form, slugify

NOW = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


@pytest.mark.fast
def test_form_fields_become_a_definition():
    definition = definition_from_form(
        {
            "title": "Mayor of Río Claro",
            "contest_title": "Mayor",
            "candidates": ["Ana Lopez | Blue Party", "Ben Stone | Green Party", "Cy Ray"],
            "regions": ["North > N1 | 1,200", "North > N2", "South > S1 | 500"],
            "opens_at": "2026-11-22T10:00:00+01:00",
            "closes_at": None,
            "test_mode": True,
        },
        NOW,
    )

    assert definition["id"] == "mayor-of-rio-claro"
    assert (definition["opens_at"], definition["closes_at"]) == (
        "2026-11-22T09:00:00Z", "2026-11-22T21:00:00Z"
    )
    assert definition["parties"] == [
        {"id": "blue-party", "name": "Blue Party", "abbreviation": "BP", "colour": "#0072b2"},
        {"id": "green-party", "name": "Green Party", "abbreviation": "GP", "colour": "#d55e00"},
    ]
    assert definition["contests"][0]["options"] == [
        {"id": "ana-lopez", "name": "Ana Lopez", "party": "blue-party"},
        {"id": "ben-stone", "name": "Ben Stone", "party": "green-party"},
        {"id": "cy-ray", "name": "Cy Ray"},
    ]
    assert [(r["id"], r.get("parent"), r.get("population")) for r in definition["regions"]] == [
        ("all", None, None),
        ("district-north", "all", None),
        ("n1", "district-north", 1200),
        ("n2", "district-north", None),
        ("district-south", "all", None),
        ("s1", "district-south", 500),
    ]
    election = parse_definition(definition)
    assert [r.region_id for r in election.leaf_regions] == ["n1", "n2", "s1"]
    assert election.is_test


@pytest.mark.fast
def test_empty_opening_means_now_and_no_regions_means_one_precinct():
    definition = definition_from_form(
        {"title": "Quick poll", "candidates": ["A", "B"], "regions": []}, NOW
    )

    assert definition["opens_at"] == "2026-11-22T09:00:00Z"
    assert [r["id"] for r in definition["regions"]] == ["all", "everywhere"]
    parse_definition(definition)


@pytest.mark.fast
def test_form_mistakes_are_named_by_line():
    with pytest.raises(DefinitionError) as caught:
        definition_from_form(
            {"title": "T", "candidates": ["A", " | Party"], "regions": ["X | many"]}, NOW
        )

    assert caught.value.errors == [
        "candidates line 2: '| Party' has no candidate name",
        "regions line 1: population 'many' is not a number",
    ]


@pytest.mark.fast
def test_a_full_definition_replaces_the_fields():
    full = {"id": "x", "title": "X"}

    assert definition_from_form({"title": "ignored", "definition": full}, NOW) == full


@pytest.mark.fast
def test_a_full_definition_with_district_contests_and_primaries_goes_through_the_form():
    import json

    from tests.conftest import REPO_ROOT

    full = json.loads((REPO_ROOT / "examples" / "elections" / "two-ward-primary.json")
                      .read_text())

    election = parse_definition(definition_from_form({"definition": full}, NOW))

    assert [(c.district, c.party) for c in election.contests if c.district or c.party] == [
        ("ward-1", None), ("ward-2", None), (None, "civic"), (None, "greens")]


@pytest.mark.fast
def test_same_candidate_twice_is_caught_by_the_definition_checks():
    definition = definition_from_form({"title": "T", "candidates": ["Ann", "Ann"]}, NOW)

    with pytest.raises(DefinitionError, match=r"contests\[0\]\.options\[1\]\.id: duplicate"):
        parse_definition(definition)


@pytest.mark.fast
def test_slugify():
    assert slugify("  Mayor of Río Claro! ") == "mayor-of-rio-claro"
    assert slugify("!!!") == "election"
