"""The event's form: one check (``event_problem``) that says what the published schema says."""

from __future__ import annotations

import json

import jsonschema
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tallyflow.votes.event import (
    VoteEvent,
    event_problem,
    read_event,
    receipt_of,
    vote_event_schema,
)

VALID = VoteEvent.ballot("e-1", "0123456789abcdef0123456789abcdef", "north-1",
                         {"mayor": ["dana-moss"], "council": []}).as_dict()
IDS = st.sampled_from(["a", "north-1", "-a", "A", "a\n", "", "a" * 63, "a" * 64, "é", 7, None])
TIMES = st.sampled_from(["2026-11-03T08:00:00Z", "2026-11-03T08:00:00.5+01:00", "yesterday",
                         "2026-11-03", "2026-13-03T08:00:00Z", 5, None])
VALUES = {
    "schema_version": st.sampled_from([1, 1.0, 2, "1", True, None]),
    "event_id": st.sampled_from([VALID["event_id"], VALID["event_id"].upper(), "x",
                                 VALID["event_id"] + "\n", None]),
    "election_id": IDS,
    "credential": st.sampled_from([VALID["credential"], VALID["credential"].upper(),
                                   VALID["credential"] + "\n", "0" * 31, None]),
    "region_id": IDS,
    "contests": st.lists(st.one_of(
        st.fixed_dictionaries({"contest_id": IDS, "selections": st.lists(IDS, max_size=3)}),
        st.fixed_dictionaries({"contest_id": IDS}),
        st.fixed_dictionaries({"contest_id": IDS, "selections": st.just([]),
                               "extra": st.just(1)}),
        st.just("mayor"),
    ), max_size=3) | st.just(None) | st.just({}),
    "cast_at": TIMES,
    "channel": st.sampled_from(["online", "in_person", "mail", "pigeon", None]),
    "received_at": TIMES,
}
CHECKER = jsonschema.Draft202012Validator(
    vote_event_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


def _schema_accepts(event) -> bool:
    if not CHECKER.is_valid(event):
        return False
    # What the schema cannot say (the tally refuses it): a contest twice.
    ids = [c["contest_id"] for c in event["contests"]]
    return len(ids) == len(set(ids))


@pytest.mark.fast
@settings(max_examples=1500, deadline=None)
@given(st.dictionaries(st.sampled_from([*VALUES, "extra"]), st.none(), max_size=10).flatmap(
    lambda keys: st.fixed_dictionaries(
        {k: VALUES.get(k, st.just("x")) for k in keys})),
    st.booleans())
def test_the_one_check_agrees_with_the_published_schema(changes, whole):
    event = {**VALID, **changes} if whole else changes

    assert (event_problem(event) is None) == _schema_accepts(event), event_problem(event)


@pytest.mark.fast
def test_the_schema_checks_times_here():
    # Without a date-time checker the agreement above would prove nothing about times.
    assert not CHECKER.is_valid({**VALID, "cast_at": "yesterday"})


@pytest.mark.fast
def test_a_message_is_read_with_its_receipt_and_refused_with_a_reason():
    read = read_event(json.dumps(VALID).encode())
    assert read.problem is None and read.election_id == "e-1"
    assert read.receipt == receipt_of(VALID["event_id"], VALID["credential"])
    assert read.contests == VALID["contests"]

    assert read_event(b"\xff").problem == "not a JSON object"
    assert read_event(b"[" * 100_000).problem == "not a JSON object"
    twice = read_event(b'{"election_id": "e-1", "election_id": "e-2"}')
    assert twice.problem == "field 'election_id' appears twice" and twice.election_id is None
    bad = read_event(json.dumps({**VALID, "channel": "pigeon"}).encode())
    assert bad.problem and bad.contests is None and bad.election_id == "e-1"


@pytest.mark.fast
def test_the_event_contract_matches_the_published_schema_field_for_field():
    from tallyflow.votes import event

    schema = event.vote_event_schema()
    assert list(event.FIELDS) == list(schema["properties"])
    assert list(event.REQUIRED_FIELDS) == schema["required"]
    assert list(event.CONTEST_FIELDS) == list(
        schema["properties"]["contests"]["items"]["properties"])
    assert list(event.CHANNELS) == schema["properties"]["channel"]["enum"]
    assert schema["properties"]["schema_version"]["const"] == event.SCHEMA_VERSION


@pytest.mark.fast
def test_the_tallys_spark_schema_is_built_from_the_event_contract():
    import dataclasses

    from jobs.tally_transforms import CONTESTS, READ_FIELDS
    from tallyflow.votes.event import CONTEST_FIELDS, ReadEvent

    assert [f.name for f in CONTESTS.elementType.fields] == list(CONTEST_FIELDS)
    assert [f.name for f in READ_FIELDS] == [
        "malformed_because" if f.name == "problem" else f.name
        for f in dataclasses.fields(ReadEvent)]
