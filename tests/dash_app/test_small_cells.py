"""The small-cell rule over a line of cells, a table of cells and a contest's precincts."""

from __future__ import annotations

import pytest

from tallyflow.feeds.small_cells import hidden_precincts, hide_cells, hide_grid


@pytest.mark.fast
def test_one_line_hides_small_cells_and_one_more_when_a_single_one_is_hidden():
    assert hide_cells({"a": 3, "b": 50, "c": 20}, 10) == {"a", "c"}
    assert hide_cells({"a": 3, "b": 4, "c": 50}, 10) == {"a", "b"}
    assert hide_cells({"a": 0, "b": 12}, 10) == set()
    # A cell already hidden (its whole row is) counts as hidden.
    assert hide_cells({"a": 40, "b": 50, "c": 20}, 10, {"a"}) == {"a", "c"}
    assert hide_cells({"a": 3}, 10) == {"a"}  # nothing left to hide with it


@pytest.mark.fast
def test_a_table_with_published_row_and_column_totals_hides_until_nothing_gives_a_cell_away():
    counts = {("r1", "in_person"): 300, ("r1", "mail"): 195, ("r1", "online"): 5,
              ("r2", "in_person"): 280, ("r2", "mail"): 100, ("r2", "online"): 100,
              ("r3", "in_person"): 200, ("r3", "mail"): 60, ("r3", "online"): 40}

    hidden = hide_grid(counts, 10)

    # r1 online (5) is small; r1 mail then goes with it (r1's total is published), and in
    # each of those columns the smallest other cell (r3's), and so on until every row and
    # column with a hidden cell has two.
    assert hidden == {("r1", "mail"), ("r1", "online"), ("r3", "mail"), ("r3", "online")}
    assert hide_grid(counts, 10, hidden_rows={"r2"}) >= {
        ("r2", "in_person"), ("r2", "mail"), ("r2", "online")}
    assert hide_grid({("r1", "mail"): 50, ("r2", "mail"): 60}, 10) == set()


@pytest.mark.fast
def test_a_contests_precincts_are_judged_by_its_own_ballots_and_its_district():
    turnout = {"r1": 500, "r2": 480, "r3": 3, "r4": 200}

    # Every precinct: r3 is small, r4 goes with it (the turnout rule).
    assert hidden_precincts(turnout, turnout, None, 10) == {"r3", "r4"}
    # A district of r1 and r3: r3 hidden, and r1 with it, or the district's totals would
    # give r3 away (the turnout rule hid r4, which is not in the district).
    assert hidden_precincts(turnout, ["r1", "r3"], None, 10) == {"r1", "r3"}
    # A primary with 2 ballots in r2: hidden, whatever r2's turnout.
    assert hidden_precincts(turnout, ["r1", "r2"], {"r1": 60, "r2": 2}, 10) == {"r1", "r2"}
