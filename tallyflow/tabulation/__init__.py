"""How votes become a result: shares, winners, ties broken by lot, yes/no thresholds.

The one home of these rules: the certificate (``tallyflow.certification.tabulate``) and the
live results site (``dash_app.results``) both decide with these functions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from fractions import Fraction
from typing import Any

LOT_RULE = (
    "Tied options are ordered by SHA-256(seed + '|' + option_id), lowest first, where seed = "
    "SHA-256('tallyflow-lot|' + roll fingerprint + '|' + contest_id); the first ones in that "
    "order take the seats left."
)
THRESHOLD_RULE = (
    "A yes/no question passes when its yes votes are at least the threshold share of the "
    "yes and no votes; an exact tie never passes."
)
DEFAULT_THRESHOLD = Fraction(1, 2)


def threshold_of(text: str | None) -> Fraction:
    """A question's threshold (``"2/3"``), a simple majority when it has none."""
    return Fraction(text) if text else DEFAULT_THRESHOLD


def passes_threshold(yes: int, no: int, threshold: Fraction) -> bool:
    """``THRESHOLD_RULE``: yes ≥ threshold × (yes + no), never on a tie or no votes."""
    return (yes + no > 0 and yes != no
            and yes * threshold.denominator >= threshold.numerator * (yes + no))


def share(part: int, whole: int) -> float:
    """``part`` as a percentage of ``whole`` (0 when there is nothing yet): an option's
    share of its contest's votes, turnout of the registered. Shown to two decimals."""
    return 100 * part / whole if whole else 0.0


def leaders(votes: Mapping[str, int], seats: int) -> list[str]:
    """The options ahead so far, most votes first (ties in option order): who would take
    the ``seats`` now, before any lot is drawn."""
    return sorted(votes, key=lambda o: (-votes[o], o))[:seats]


def margin_points(votes: Mapping[str, int]) -> float | None:
    """Percentage points between the first and second option (100 with one option), or
    None before any vote."""
    total = sum(votes.values())
    if not total:
        return None
    top = sorted(votes.values(), reverse=True)
    second = top[1] if len(top) > 1 else 0
    return round(100 * (top[0] - second) / total, 2)


def lot_order(roll_fingerprint: str, contest_id: str, option_ids: list[str]) -> list[str]:
    """The tied options in the order the seeded lot draws them (see ``LOT_RULE``)."""
    seed = hashlib.sha256(f"tallyflow-lot|{roll_fingerprint}|{contest_id}".encode()).hexdigest()
    return sorted(option_ids,
                  key=lambda o: (hashlib.sha256(f"{seed}|{o}".encode()).hexdigest(), o))


def elect(contest_id: str, votes: Mapping[str, int], seats: int,
          roll_fingerprint: str) -> tuple[list[str], dict[str, Any] | None]:
    """The ``seats`` options with most votes, and the tie broken by lot if one decides a
    seat (None when none does)."""
    ranked = sorted(votes, key=lambda o: -votes[o])
    if len(ranked) <= seats:
        return ranked, None
    cutoff = votes[ranked[seats - 1]]
    above = [o for o in ranked if votes[o] > cutoff]
    tied = sorted(o for o in ranked if votes[o] == cutoff)
    seats_left = seats - len(above)
    if len(tied) <= seats_left:
        return above + tied, None
    drawn = lot_order(roll_fingerprint, contest_id, tied)
    tie = {
        "options": tied,
        "votes": cutoff,
        "seats": seats_left,
        "rule": LOT_RULE,
        "seed": hashlib.sha256(
            f"tallyflow-lot|{roll_fingerprint}|{contest_id}".encode()).hexdigest(),
        "draw": drawn,
        "won": drawn[:seats_left],
    }
    return above + drawn[:seats_left], tie


def contest_result(contest: dict[str, Any], marks: Mapping[tuple[str, str], int],
                   fingerprint: str) -> dict[str, Any]:
    """A contest's certified result from its options' votes and its recount ``marks``
    (ballots, blank, under-, over- and off-ballot: marked though not on the voter's
    ballot): shares, winners, tie or threshold."""
    cid = contest["contest_id"]
    votes = {o["option_id"]: o["votes"] for o in contest["options"]}
    total = sum(votes.values())
    result = {
        **contest,
        "ballots": int(marks.get(("contest_ballots", cid), 0)),
        "blank_ballots": int(marks.get(("contest_blank", cid), 0)),
        "undervoted_ballots": int(marks.get(("contest_undervote", cid), 0)),
        "overvoted_ballots": int(marks.get(("contest_overvote", cid), 0)),
        "off_ballot_ballots": int(marks.get(("contest_off_ballot", cid), 0)),
        "total_votes": total,
        "tie": None,
    }
    for option in result["options"]:
        option["share_percent"] = f"{share(option['votes'], total):.2f}"
    if contest["kind"] == "yes_no":
        yes, no = votes.get("yes", 0), votes.get("no", 0)
        threshold = threshold_of(contest["threshold"])
        passes = passes_threshold(yes, no, threshold)
        result.update(passes=passes, winners=["yes" if passes else "no"],
                      rule=THRESHOLD_RULE, threshold=str(threshold))
        return result
    winners, tie = elect(cid, votes, contest["seats"], fingerprint)
    result.update(winners=winners, tie=tie)
    return result
