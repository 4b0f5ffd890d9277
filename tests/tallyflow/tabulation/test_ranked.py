"""Ranked-choice tabulation on literal rankings: the ballot rules, ties and their errors."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tallyflow.tabulation.ranked import (
    OVERVOTE,
    RankedError,
    RankedRules,
    current_choice,
    tabulate,
)
from tallyflow.tabulation.ties import JavaRandom

pytestmark = pytest.mark.fast

RULES = RankedRules(max_skipped_ranks=1)


def _r(*ranks: str | tuple[str, ...]) -> tuple[tuple[str, ...], ...]:
    return tuple(() if r == "" else (r,) if isinstance(r, str) else r for r in ranks)


@pytest.mark.parametrize(("ranking", "rules", "expected"), [
    (_r("a", "b"), RULES, ("a", None)),
    (_r("x", "b"), RULES, ("b", None)),  # x was eliminated: the next rank counts
    (_r("", "b"), RULES, ("b", None)),  # one skipped rank is allowed
    (_r("", "", "b"), RULES, (None, "skippedRankings")),
    (_r("", "", "b"), RankedRules(max_skipped_ranks=None), ("b", None)),
    (_r(("a", "b"), "c"), RULES, (None, "overvotes")),
    (_r(("a", "b"), "c"), RankedRules(overvote_rule="always_skip_to_next_rank"), ("c", None)),
    (_r(("a", "x"), "c"), RankedRules(overvote_rule="exhaust_if_multiple_continuing"),
     ("a", None)),
    (_r((OVERVOTE,), "c"), RankedRules(overvote_rule="always_skip_to_next_rank"),
     ("c", None)),
    (_r("x", "x", "b"), RankedRules(exhaust_on_duplicate=True), (None, "repeatedRankings")),
    (_r("x", "x", "b"), RULES, ("b", None)),
    (_r("x", "y"), RULES, (None, "exhaustedChoices")),
])
def test_the_choice_a_ballot_counts_for(ranking, rules, expected):
    assert current_choice(ranking, {"a", "b", "c"}, rules) == expected


def test_irv_eliminates_the_last_and_transfers_until_a_majority():
    ballots = {_r("a", "c"): 4, _r("b"): 3, _r("c", "b"): 2, _r("d", "b"): 1}

    result = tabulate(ballots, ["a", "b", "c", "d"], RULES)

    assert result.winners == ["b"]
    assert [(r.number, r.eliminated, r.elected) for r in result.rounds] == [
        (1, ["d"], []), (2, ["c"], []), (3, [], ["b"])]
    assert result.rounds[1].transfers == {"c": {"b": Decimal(2)}}
    assert result.rounds[2].tally == {"a": 4, "b": 6}
    assert result.rounds[2].threshold == 6  # floor(10 / 2) + 1


def test_stv_moves_a_winners_surplus_at_the_truncated_fraction():
    ballots = {_r("a", "b"): 6, _r("b"): 2, _r("c"): 3}

    result = tabulate(ballots, ["a", "b", "c"],
                      RankedRules(seats=2, winner_mode="multiple_winners_per_round",
                                  decimal_places=4))

    first = result.rounds[0]
    assert first.threshold == 4 and first.elected == ["a"]  # floor(11 / 3) + 1
    # a's 6 ballots move on at (6 - 4) / 6 = 0.3333 each: 1.9998 to b, 0.0002 stays.
    assert first.transfers["a"] == {"b": Decimal("1.9998"), "residual surplus":
                                    Decimal("0.0002")}
    assert result.winners == ["a", "b"]


def test_ties_follow_the_rules_mode():
    ballots = {_r("a"): 3, _r("b"): 2, _r("c"): 2}
    by_order = tabulate(ballots, ["a", "b", "c"], RankedRules(tiebreak="candidate_order"))
    assert by_order.rounds[0].eliminated == ["c"]  # the latest in the candidates' order
    seeds = (0, -5, 31337, 77777)  # java.util.Random's first draws: 0.73, 0.27, 0.02, 0.94
    seeded = [tabulate(ballots, ["a", "b", "c"], RankedRules(random_seed=s)).rounds[0]
              .eliminated for s in seeds]
    assert seeded == [["c"], ["b"], ["b"], ["c"]]  # the sorted tied list [b, c] at the draw


def test_java_random_gives_javas_sequence():
    # new java.util.Random(0).nextDouble() and new java.util.Random(42).nextDouble()
    assert JavaRandom(0).next_double() == 0.730967787376657
    assert JavaRandom(42).next_double() == 0.7275636800328681


@pytest.mark.parametrize(("ballots", "rules", "message"), [
    ({_r("a", "b", "c"): 1}, RankedRules(max_rankings=2), "beyond the 2 rankings allowed"),
    ({_r("zed"): 1}, RULES, "'zed', who is not a candidate"),
    ({_r("a"): 1}, RankedRules(seats=2), "does not fit 2 seat(s)"),
    ({_r("a"): 1}, RankedRules(seats=4, winner_mode="multiple_winners_per_round"),
     "4 seat(s) for 3 candidate(s)"),
])
def test_a_contest_that_cannot_be_tabulated_is_refused_clearly(ballots, rules, message):
    with pytest.raises(RankedError, match=message.replace("(", r"\(").replace(")", r"\)")):
        tabulate(ballots, ["a", "b", "c"], rules)
