"""Tallyflow's ranked contests: the one rule the live results and the certificate both count
them by, over the stored rankings (``ranking_contest_totals``; the recount's cells).

A contest with one seat is an instant runoff (IRV); with more, the single transferable vote
(STV) with the Droop quota and weighted inclusive Gregory surplus transfers at four decimal
places. A ranking is read from its first rank to its last; a candidate ranked twice is
passed over; ties are broken by the seeded lot. ``tallyflow.tabulation.ranked`` counts.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

from tallyflow.tabulation.ranked import RANKED_RULE, RankedResult, RankedRules, tabulate

DECIMAL_PLACES = 4
STV_RULE = (
    "Single transferable vote: a candidate whose votes reach the Droop quota "
    "(floor(first-round votes / (seats + 1)) + 1) is elected, and every ballot counting for "
    "them moves on to its next continuing candidate at the fraction surplus / their votes of "
    "its value (weighted inclusive Gregory, truncated to 4 decimal places); when no one "
    "reaches the quota the candidate with the fewest votes is eliminated. A candidate ranked "
    "twice is passed over. A tie is broken by the seeded lot."
)


def ranked_rules(contest_id: str, seats: int, roll_fingerprint: str) -> RankedRules:
    """The rules of a ranked contest electing ``seats``; the lot is seeded by the frozen
    roll's fingerprint and the contest (``tallyflow.tabulation.lot_order``)."""
    lot = (roll_fingerprint or "", contest_id)
    if seats == 1:
        return RankedRules(max_skipped_ranks=None, tiebreak="lot", lot=lot)
    return RankedRules(seats=seats, winner_mode="multiple_winners_per_round",
                       max_skipped_ranks=None, tiebreak="lot", lot=lot,
                       decimal_places=DECIMAL_PLACES)


def rule_text(seats: int) -> str:
    return RANKED_RULE if seats == 1 else STV_RULE


def rule_options(seats: int) -> dict[str, Any]:
    """The rule's options by RCTab's names, so the count can be redone with RCTab."""
    options: dict[str, Any] = {
        "winnerElectionMode": ("singleWinnerMajority" if seats == 1
                               else "multiWinnerAllowMultipleWinnersPerRound"),
        "numberOfWinners": str(seats),
        "overvoteRule": "exhaustImmediately", "maxSkippedRanksAllowed": "unlimited",
        "maxRankingsAllowed": "max", "exhaustOnDuplicateCandidate": False,
        "batchElimination": False, "continueUntilTwoCandidatesRemain": False,
        "tiebreakMode": "the seeded lot (tie_rule)",
    }
    if seats > 1:
        options.update(decimalPlacesForVoteArithmetic=str(DECIMAL_PLACES),
                       nonIntegerWinningThreshold=False, hareQuota=False)
    return options


def runoff(stored: Mapping[str, int], candidates: Sequence[str], seats: int,
           roll_fingerprint: str, contest_id: str) -> RankedResult | None:
    """Every round of the contest from its stored rankings (JSON arrays of option ids in
    preference order -> ballots); None before any ranking is counted."""
    ballots = Counter({tuple((c,) for c in json.loads(r)): n for r, n in stored.items()})
    if not ballots:
        return None
    return tabulate(ballots, candidates, ranked_rules(contest_id, seats, roll_fingerprint))


def _number(value: Decimal | int) -> int | float:
    """A count as JSON has it: whole numbers as integers (tallies stay whole until an STV
    surplus makes them fractional)."""
    value = Decimal(value)
    return int(value) if value == value.to_integral_value() else float(value)


def live_rounds(result: RankedResult) -> dict[str, Any]:
    """A tabulation as the results site and its exports show it (JSON-ready): each round's
    votes, threshold, who was elected or eliminated, the transfers out of them and the
    ballots that count for no one; and the winners so far."""
    return {
        "winners": list(result.winners),
        "rounds": [{
            "round": r.number,
            "tally": {c: _number(v) for c, v in r.tally.items()},
            "threshold": _number(r.threshold),
            "elected": list(r.elected), "eliminated": list(r.eliminated),
            "transfers": {c: {to: _number(v) for to, v in flows.items()}
                          for c, flows in r.transfers.items()},
            "exhausted": _number(sum(r.inactive.values(), Decimal(0))),
        } for r in result.rounds],
    }


def live_rounds_of_summary(results: list[dict[str, Any]], winners: list[str]
                           ) -> dict[str, Any]:
    """``live_rounds``'s shape from the rounds a certificate holds (RCTab's summary
    ``results``, numbers as text), so a certified contest is shown from its certificate."""
    def number(text: str) -> int | float:
        return _number(Decimal(text))

    return {
        "winners": list(winners),
        "rounds": [{
            "round": r["round"],
            "tally": {c: number(v) for c, v in r["tally"].items()},
            "threshold": number(r["threshold"]),
            "elected": [a["elected"] for a in r["tallyResults"] if "elected" in a],
            "eliminated": [a["eliminated"] for a in r["tallyResults"] if "eliminated" in a],
            "transfers": {a.get("elected") or a["eliminated"]:
                          {to: number(v) for to, v in a["transfers"].items()}
                          for a in r["tallyResults"] if a["transfers"]},
            "exhausted": _number(sum((Decimal(v) for v in r["inactiveBallots"].values()),
                                     Decimal(0))),
        } for r in results],
    }
