"""The ballot layout: contests in ballot order, each with its options and its limit."""

from __future__ import annotations

import pytest

from tallyflow.elections.layout import ContestLayout, group_layouts, option_rows


@pytest.mark.fast
def test_rows_in_ballot_order_become_each_elections_contests_in_that_order():
    rows = [("e", "mayor", "plurality", 1, None, None, "bob"),
            ("e", "mayor", "plurality", 1, None, None, "ann"),
            ("e", "parks", "approval", 2, ["w1", "w1-a"], None, "lake"),
            ("e", "parks", "approval", 2, ["w1", "w1-a"], None, "dogs"),
            ("e", "empty", "plurality", 1, None, "civic", None),
            ("f", "q", "yes_no", 1, None, None, "yes")]

    layouts = group_layouts(rows)

    assert layouts == {
        "e": [ContestLayout("mayor", "plurality", ("bob", "ann"), 1),
              ContestLayout("parks", "approval", ("lake", "dogs"), 2,
                            frozenset({"w1", "w1-a"})),
              ContestLayout("empty", "plurality", (), 1, party="civic")],
        "f": [ContestLayout("q", "yes_no", ("yes",), 1)],
    }
    assert option_rows(layouts) == [
        ("e", "mayor", "bob", 1, "plurality", None, None),
        ("e", "mayor", "ann", 1, "plurality", None, None),
        ("e", "parks", "lake", 2, "approval", ["w1", "w1-a"], None),
        ("e", "parks", "dogs", 2, "approval", ["w1", "w1-a"], None),
        ("f", "q", "yes", 1, "yes_no", None, None)]


def test_the_stored_ballot_follows_the_definitions_order_and_limits(postgres_url, new_election):
    from tallyflow import db
    from tallyflow.elections.layout import ballot_layouts

    election = new_election("general-election.json")
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        layout = ballot_layouts(cur, [election.election_id])[election.election_id]

    defined_order = sorted(election.contests, key=lambda c: c.ballot_order)
    assert [c.contest_id for c in layout] == [c.contest_id for c in defined_order]
    for stored, defined in zip(layout, defined_order, strict=True):
        assert stored.kind == defined.kind
        assert stored.options == tuple(
            o.option_id for o in sorted(defined.options, key=lambda o: o.ballot_order))
        expected = {"plurality": defined.seats, "yes_no": 1}.get(defined.kind,
                                                                  len(defined.options))
        assert stored.max_selections == expected


@pytest.mark.fast
def test_rows_with_more_than_the_layout_group_into_contests_the_same_way():
    from tallyflow.elections.layout import group_contests

    rows = [{"contest_id": "q", "title": "Question", "option_id": "yes", "label": "Yes", "n": 3},
            {"contest_id": "q", "title": "Question", "option_id": "no", "label": "No", "n": 1},
            {"contest_id": "m", "title": "Mayor", "option_id": None, "label": None, "n": 0}]

    assert group_contests(rows, {"heading": "title"}, {"id": "option_id", "votes": "n"}) == [
        {"contest_id": "q", "heading": "Question",
         "options": [{"id": "yes", "votes": 3}, {"id": "no", "votes": 1}]},
        {"contest_id": "m", "heading": "Mayor", "options": []},
    ]


@pytest.mark.fast
def test_a_voters_ballot_is_the_contests_of_their_precinct_and_party():
    from tallyflow.elections.layout import ballot_of

    everyone = ContestLayout("mayor", "plurality", ("a",), 1)
    ward = ContestLayout("ward-1", "plurality", ("b",), 1, frozenset({"w1", "w1-a", "w1-b"}))
    primary = ContestLayout("civic-primary", "plurality", ("c",), 1, party="civic")
    ward_primary = ContestLayout("w1-civic", "plurality", ("d",), 1,
                                 frozenset({"w1", "w1-a"}), "civic")
    contests = [everyone, ward, primary, ward_primary]

    def ids(region, party):
        return [c.contest_id for c in ballot_of(contests, region, party)]

    assert ids("w1-a", "civic") == ["mayor", "ward-1", "civic-primary", "w1-civic"]
    assert ids("w1-b", "civic") == ["mayor", "ward-1", "civic-primary"]
    assert ids("w1-a", None) == ["mayor", "ward-1"]
    assert ids("w2-a", "greens") == ["mayor"]
