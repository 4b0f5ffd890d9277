"""Election definitions: the examples load, and every kind of mistake gets its own message."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from fractions import Fraction

import pytest

from tallyflow.elections.definition import (
    DefinitionError,
    load_definition,
    parse_definition,
    resolve_time,
)
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples" / "elections"

MINIMAL = {
    "id": "town-vote",
    "title": "Town vote",
    "opens_at": "2026-11-03T07:00:00Z",
    "closes_at": "2026-11-03T19:00:00Z",
    "parties": [{"id": "red", "name": "Red", "abbreviation": "R", "colour": "#d55e00"}],
    "regions": [
        {"id": "town", "name": "Town", "level": "town"},
        {"id": "east", "name": "East", "level": "ward", "parent": "town"},
    ],
    "contests": [
        {
            "id": "mayor",
            "title": "Mayor",
            "kind": "plurality",
            "options": [
                {"id": "ann", "name": "Ann", "party": "red"},
                {"id": "bob", "name": "Bob"},
            ],
        }
    ],
}


def _errors(raw: dict) -> list[str]:
    with pytest.raises(DefinitionError) as caught:
        parse_definition(raw)
    return caught.value.errors


def _with(**changes) -> dict:
    raw = copy.deepcopy(MINIMAL)
    raw.update(changes)
    return raw


@pytest.mark.fast
def test_the_three_examples_load():
    three = load_definition(EXAMPLES / "three-parties.json")
    referendum = load_definition(EXAMPLES / "city-referendum.yaml")
    general = load_definition(EXAMPLES / "general-election.json")

    assert [(p.party_id, len([o for o in three.contests[0].options if o.party_id == p.party_id]))
            for p in three.parties] == [("harbour", 1), ("meadow", 1), ("forge", 1)]
    assert [(c.kind, c.threshold, [o.option_id for o in c.options]) for c in referendum.contests] \
        == [("yes_no", Fraction(2, 3), ["yes", "no"])]
    assert referendum.is_tally_embargoed is True
    assert [(c.contest_id, c.kind, c.seats) for c in general.contests] == [
        ("mayor", "plurality", 1), ("council", "plurality", 2), ("park-priorities", "approval", 1)
    ]
    assert [r.region_id for r in three.leaf_regions][:3] == ["north-1", "north-2", "north-3"]
    assert len(three.leaf_regions) == 9


@pytest.mark.fast
def test_the_primary_example_has_district_contests_and_primaries():
    election = load_definition(EXAMPLES / "two-ward-primary.json")

    assert [(c.contest_id, c.kind, c.district, c.party) for c in election.contests] == [
        ("mayor", "plurality", None, None),
        ("ward-1-council", "plurality", "ward-1", None),
        ("ward-2-council", "plurality", "ward-2", None),
        ("civic-running-mate", "plurality", None, "civic"),
        ("greens-committee", "plurality", None, "greens"),
        ("library-bond", "yes_no", None, None),
    ]
    assert [r.region_id for r in election.leaf_regions] == [
        "ward-1-a", "ward-1-b", "ward-2-a", "ward-2-b"]


@pytest.mark.fast
def test_a_district_contest_and_a_primary_build_the_model():
    raw = _with(contests=[{**MINIMAL["contests"][0], "district": "east"},
                          {**MINIMAL["contests"][0], "id": "red-primary", "party": "red"}])

    contests = parse_definition(raw).contests

    assert [(c.district, c.party) for c in contests] == [("east", None), (None, "red")]
    assert [(c.district, c.party) for c in parse_definition(MINIMAL).contests] == [
        (None, None)]


@pytest.mark.fast
def test_a_minimal_definition_builds_the_model():
    election = parse_definition(MINIMAL)

    assert election.opens_at == datetime(2026, 11, 3, 7, tzinfo=UTC)
    assert election.voting_age == 18
    assert [(o.option_id, o.ballot_order, o.party_id) for o in election.contests[0].options] == [
        ("ann", 1, "red"), ("bob", 2, None)
    ]
    assert len(election.definition_sha256) == 64


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "options": [
                {"id": "ann", "name": "Ann"}, {"id": "bob", "name": "Bob", "party": "xyz"}]}]),
            "contests[0].options[1].party: unknown party 'xyz'",
            id="unknown-party",
        ),
        pytest.param(
            _with(closes_at="2026-11-03T06:00:00Z"),
            "closes_at: must be after opens_at (2026-11-03T07:00:00Z)",
            id="closes-before-opens",
        ),
        pytest.param(
            {k: v for k, v in MINIMAL.items() if k != "title"}, "title: is required",
            id="missing-field",
        ),
        pytest.param(_with(colour="red"), "colour: unknown field", id="unknown-field"),
        pytest.param(
            _with(id="Town Vote"),
            "id: 'Town Vote' is not an id: use lowercase letters, digits and hyphens",
            id="bad-id",
        ),
        pytest.param(
            _with(opens_at="2026-11-03T07:00:00+02:00"),
            "opens_at: '2026-11-03T07:00:00+02:00' is not a UTC time: "
            "write it like 2026-11-03T07:00:00Z",
            id="not-utc",
        ),
        pytest.param(
            _with(opens_at="2026-13-03T07:00:00Z"),
            "opens_at: '2026-13-03T07:00:00Z' is not a valid time with a UTC offset",
            id="impossible-date",
        ),
        pytest.param(
            _with(parties=[MINIMAL["parties"][0], {**MINIMAL["parties"][0]}]),
            "parties[1].id: duplicate party id 'red'",
            id="duplicate-party",
        ),
        pytest.param(
            _with(parties=[{**MINIMAL["parties"][0], "colour": "red"}]),
            "parties[0].colour: 'red' is not a colour: write it like #1f77b4",
            id="bad-colour",
        ),
        pytest.param(
            _with(regions=[*MINIMAL["regions"], {"id": "west", "name": "W", "level": "ward",
                                                 "parent": "nowhere"}]),
            "regions[2].parent: unknown region 'nowhere'",
            id="unknown-parent-region",
        ),
        pytest.param(
            _with(regions=[{"id": "a", "name": "A", "level": "x", "parent": "b"},
                           {"id": "b", "name": "B", "level": "x", "parent": "a"}]),
            "regions[0].parent: 'b' makes a cycle of regions",
            id="region-cycle",
        ),
        pytest.param(
            _with(contests=[{"id": "q", "title": "Q", "kind": "yes_no",
                             "options": [{"id": "yes", "name": "Yes"}]}]),
            "contests[0].options: a yes_no contest always has the options yes and no; "
            "remove this field",
            id="yes-no-with-options",
        ),
        pytest.param(
            _with(contests=[{"id": "q", "title": "Q", "kind": "yes_no", "threshold": "3/2"}]),
            "contests[0].threshold: '3/2' is not a share in (0, 1]",
            id="threshold-above-one",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "threshold": 0.5}]),
            "contests[0].threshold: only yes_no contests have a threshold",
            id="threshold-on-plurality",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "seats": 2}]),
            "contests[0].seats: 2 seat(s) need more than 2 options",
            id="too-few-options-for-seats",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "kind": "borda"}]),
            "contests[0].kind: 'borda' is not one of plurality, approval, yes_no, ranked",
            id="unknown-kind",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "options": [{"id": "ann", "name": "A"}]}]),
            "contests[0].options: a plurality contest needs at least 2 options",
            id="one-option",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "options": [
                {"id": "ann", "name": "Ann"}, {"id": "ann", "name": "Ann again"}]}]),
            "contests[0].options[1].id: duplicate option id 'ann'",
            id="duplicate-option",
        ),
        pytest.param(
            _with(contests=[{"id": "r", "title": "R", "kind": "ranked", "seats": 3, "options": [
                {"id": "a", "name": "A"}, {"id": "b", "name": "B"}, {"id": "c", "name": "C"}]}]),
            "contests[0].seats: 3 seat(s) need more than 3 options",
            id="ranked-seats-for-every-candidate",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "district": "west"}]),
            "contests[0].district: unknown region 'west'",
            id="unknown-district",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "party": "blue"}]),
            "contests[0].party: unknown party 'blue'",
            id="primary-of-an-unknown-party",
        ),
        pytest.param(
            _with(parties=[*MINIMAL["parties"], {"id": "blue", "name": "Blue",
                                                 "abbreviation": "B", "colour": "#0072b2"}],
                  contests=[{**MINIMAL["contests"][0], "party": "blue"}]),
            "contests[0].options[0].party: 'red' is not the party of this primary ('blue')",
            id="primary-candidate-of-another-party",
        ),
        pytest.param(
            _with(contests=[{**MINIMAL["contests"][0], "district": "East"}]),
            "contests[0].district: 'East' is not an id: use lowercase letters, digits and "
            "hyphens",
            id="district-not-an-id",
        ),
    ],
)
@pytest.mark.fast
def test_each_mistake_gets_its_precise_message(raw: dict, expected: str):
    assert expected in _errors(raw)


@pytest.mark.fast
def test_all_mistakes_are_reported_at_once():
    raw = _with(id="Bad Id", colour="x", closes_at="2026-11-03T06:00:00Z")
    raw["contests"][0]["options"][1]["party"] = "xyz"

    errors = _errors(raw)

    assert errors == [
        "colour: unknown field",
        "id: 'Bad Id' is not an id: use lowercase letters, digits and hyphens",
        "closes_at: must be after opens_at (2026-11-03T07:00:00Z)",
        "contests[0].options[1].party: unknown party 'xyz'",
    ]


@pytest.mark.fast
def test_ranked_contests_are_accepted_and_stored():
    raw = _with(contests=[{"id": "r", "title": "R", "kind": "ranked", "options": [
        {"id": "a", "name": "A"}, {"id": "b", "name": "B"}]}])

    assert parse_definition(raw).contests[0].kind == "ranked"


@pytest.mark.fast
def test_a_ranked_contest_may_fill_several_seats_by_single_transferable_vote():
    raw = _with(contests=[{"id": "council", "title": "Council", "kind": "ranked", "seats": 2,
                           "options": [{"id": c, "name": c.upper()} for c in "abcd"]}])

    assert parse_definition(raw).contests[0].seats == 2


@pytest.mark.fast
def test_a_broken_json_file_names_the_line(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text('{\n  "id": "x",\n  "title": oops\n}\n')

    with pytest.raises(DefinitionError) as caught:
        load_definition(path)

    assert caught.value.errors == ["line 3, column 12: invalid JSON: Expecting value"]
    assert str(path) in str(caught.value)


@pytest.mark.fast
def test_unsupported_file_types_and_missing_files_are_named(tmp_path):
    (tmp_path / "e.toml").write_text("x = 1")

    with pytest.raises(DefinitionError, match=r"unsupported file type '\.toml'"):
        load_definition(tmp_path / "e.toml")
    with pytest.raises(DefinitionError, match="no such file"):
        load_definition(tmp_path / "missing.json")


@pytest.mark.fast
def test_yaml_and_overrides(tmp_path):
    path = tmp_path / "e.yaml"
    path.write_text(json.dumps(MINIMAL))  # JSON is YAML too

    election = load_definition(path, opens_at="2027-01-01T08:00:00Z", closes_at="+1d",
                               election_id="other-id")

    assert election.election_id == "other-id"
    assert election.opens_at == datetime(2027, 1, 1, 8, tzinfo=UTC)
    assert election.closes_at == datetime(2027, 1, 2, 8, tzinfo=UTC)


@pytest.mark.fast
def test_relative_times():
    now = datetime(2026, 11, 22, 10, 30, tzinfo=UTC)

    assert resolve_time("now", now) == "2026-11-22T10:30:00Z"
    assert resolve_time("+90m", now) == "2026-11-22T12:00:00Z"
    assert resolve_time("+2h", now) == "2026-11-22T12:30:00Z"
    assert resolve_time("+1d", now) == "2026-11-23T10:30:00Z"
    assert resolve_time("tomorrow", now) == "tomorrow"
