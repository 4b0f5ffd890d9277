"""Ranked-choice tabulation: single-winner instant runoff (IRV) and multi-winner single
transferable vote (STV), round by round, from the count of each distinct ranking.

Pure: no database, no Spark. The input is ``{ranking: ballots}``, where a ranking holds,
for each rank, the candidates marked there (none: the rank was skipped; several, or
``OVERVOTE``: an overvote). A million ballots over eight candidates are a few thousand
distinct rankings, so a tabulation reads those, never the ballots.

The ballot rules and rule options are RCTab's (``tallyflow.rctab`` reads its files), and
the results match RCTab's round for round (tests: RCTab's published test cases):

- which choice a ballot counts for: its highest-ranked continuing candidate, after the
  overvote rule, the maximum number of skipped ranks, the duplicate rule and the maximum
  number of rankings (``current_choice``);
- single winner: a candidate with more than half the round's votes wins
  (threshold = floor(votes / 2) + 1); otherwise the last candidate is eliminated (all
  candidates whose combined votes are below the next candidate's with batch elimination);
- multiple winners: the Droop quota floor(first-round votes / (seats + 1)) + 1; a winner's
  surplus moves on with every ballot that counted for them, each at the fraction
  surplus / the winner's votes of its current value (the weighted inclusive Gregory
  method), truncated to ``decimal_places``;
- ties: RCTab's modes: the candidate order, RCTab's seeded random draw (``JavaRandom``,
  the same pseudo-random sequence as RCTab, so a seed gives RCTab's draw), or the
  previous round's counts first.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, ROUND_UP, Decimal

from tallyflow.tabulation import lot_order
from tallyflow.tabulation.ties import Tiebreak

OVERVOTE = "\x00overvote"  # an explicit overvote mark at a rank (RCTab's "overvote")
# Write-ins for no declared candidate count together as one candidate, the first eliminated.
UNDECLARED_WRITE_INS = "Undeclared Write-ins"

Ranking = tuple[tuple[str, ...], ...]
EXHAUSTED = "exhausted"
RANKED_RULE = (
    "Instant runoff: in each round every ballot counts for its highest-ranked candidate still "
    "in the count; a candidate with more than half of the round's votes wins, otherwise the "
    "candidate with the fewest votes is eliminated. A candidate ranked twice is passed over. "
    "A tie is broken by the seeded lot: the first in its order wins, the last is eliminated."
)
INACTIVE_KINDS = ("exhaustedChoices", "overvotes", "repeatedRankings", "skippedRankings")


@dataclass(frozen=True)
class RankedRules:
    seats: int = 1
    winner_mode: str = "single_winner"  # one_winner_per_round | multiple_winners_per_round
    overvote_rule: str = "exhaust_immediately"  # always_skip_to_next_rank |
    #                                              exhaust_if_multiple_continuing
    max_skipped_ranks: int | None = 1  # None: unlimited
    max_rankings: int | None = None  # None: as many as there are candidates
    exhaust_on_duplicate: bool = False
    tiebreak: str = "random"  # previous_round_counts_then_random | candidate_order
    random_seed: int | None = 0
    batch_elimination: bool = False
    continue_until_two: bool = False
    decimal_places: int = 4
    non_integer_threshold: bool = False  # votes / (seats + 1) + 10^-decimal_places
    hare_quota: bool = False  # divide by seats, not seats + 1
    first_round_threshold: bool = False  # single winner: the threshold of round 1 throughout
    # With tiebreak "lot": the roll fingerprint and contest that seed the lot
    # (``tallyflow.tabulation.lot_order``).
    lot: tuple[str, str] | None = None


@dataclass
class RankedRound:
    number: int
    tally: dict[str, Decimal]
    threshold: Decimal
    elected: list[str] = field(default_factory=list)
    eliminated: list[str] = field(default_factory=list)
    # From each elected or eliminated candidate: to whom its ballots went next ("exhausted"
    # for those that went to no one).
    transfers: dict[str, dict[str, Decimal]] = field(default_factory=dict)
    inactive: dict[str, Decimal] = field(default_factory=dict)


@dataclass
class RankedResult:
    rounds: list[RankedRound]
    winners: list[str]
    candidates: int
    ballots: int
    undervotes: int
    draws: list[dict] = field(default_factory=list)  # ties broken by lot


class RankedError(ValueError):
    """A ranked contest that cannot be tabulated as given."""


# -- a ballot's choice --------------------------------------------------------------------


def current_choice(ranking: Ranking, continuing: set[str], rules: RankedRules
                   ) -> tuple[str | None, str | None]:
    """(the candidate the ballot counts for, None) or (None, why it counts for no one:
    one of ``INACTIVE_KINDS``). The ballot is read from its first rank, checking at each
    marked rank, in this order: skipped ranks, a repeated candidate, an overvote, then its
    first continuing candidate."""
    seen: set[str] = set()
    last_marked = 0
    for rank, marks in enumerate(ranking, start=1):
        if not marks:
            continue
        if rules.max_skipped_ranks is not None and \
                rank - last_marked > rules.max_skipped_ranks + 1:
            return None, "skippedRankings"
        last_marked = rank
        if rules.exhaust_on_duplicate:
            if seen & set(marks):
                return None, "repeatedRankings"
            seen.update(marks)
        decision = _overvote(marks, continuing, rules)
        if decision == "exhaust":
            return None, "overvotes"
        if decision == "skip":
            if not any(ranking[rank:]):  # the last marked rank
                return None, "exhaustedChoices"
            continue
        chosen = marks[0] if len(marks) == 1 else next(
            (m for m in marks if m in continuing), None)
        if chosen in continuing:
            return chosen, None
        if not any(ranking[rank:]):
            return None, "exhaustedChoices"
    return None, "exhaustedChoices"


def _overvote(marks: tuple[str, ...], continuing: set[str], rules: RankedRules) -> str | None:
    """What the overvote rule makes of a rank: "exhaust", "skip", or None (not an overvote,
    or one that still names a single continuing candidate)."""
    if OVERVOTE in marks:
        if len(marks) > 1 or rules.overvote_rule == "exhaust_if_multiple_continuing":
            raise RankedError("an explicit overvote mark must stand alone at its rank, and "
                              "needs the overvote rule exhaust_immediately or "
                              "always_skip_to_next_rank")
        return "exhaust" if rules.overvote_rule == "exhaust_immediately" else "skip"
    if len(marks) < 2:
        return None
    if rules.overvote_rule == "exhaust_immediately":
        return "exhaust"
    if rules.overvote_rule == "always_skip_to_next_rank":
        return "skip"
    return "exhaust" if sum(m in continuing for m in marks) >= 2 else None


# -- rounds -------------------------------------------------------------------------------


def tabulate(ballots: Mapping[Ranking, int], candidates: Sequence[str],
             rules: RankedRules) -> RankedResult:
    """Every round of the contest, and its winners."""
    if rules.seats < 1 or rules.seats > len(candidates):
        raise RankedError(f"{rules.seats} seat(s) for {len(candidates)} candidate(s)")
    if (rules.seats == 1) != (rules.winner_mode == "single_winner"):
        raise RankedError(f"winner mode {rules.winner_mode!r} does not fit {rules.seats} "
                          "seat(s)")
    if rules.seats > 1 and (rules.batch_elimination or rules.continue_until_two):
        raise RankedError("batch elimination and continuing until two candidates remain "
                          "are for single-winner contests")
    if rules.seats == 1 and (rules.non_integer_threshold or rules.hare_quota):
        raise RankedError("a non-integer threshold and the Hare quota are for multi-winner "
                          "contests")
    known = set(candidates)
    for ranking in ballots:
        marked = [rank for rank, marks in enumerate(ranking, start=1) if marks]
        if rules.max_rankings is not None and marked and marked[-1] > rules.max_rankings:
            raise RankedError(f"a ballot ranks at rank {marked[-1]}, beyond the "
                              f"{rules.max_rankings} rankings allowed")
        unknown = {m for marks in ranking for m in marks} - known - {OVERVOTE}
        if unknown:
            raise RankedError(f"a ballot ranks {sorted(unknown)[0]!r}, who is not a "
                              "candidate")
    undervotes = sum(n for ranking, n in ballots.items() if not any(ranking))
    counting = {ranking: n for ranking, n in ballots.items() if any(ranking)}
    return _Count(counting, list(candidates), rules).run(sum(ballots.values()), undervotes)


class _Count:
    """One tabulation's state: who continues, each ranking's value, the rounds so far."""

    def __init__(self, ballots: Mapping[Ranking, int], candidates: list[str],
                 rules: RankedRules) -> None:
        self.ballots, self.candidates, self.rules = ballots, candidates, rules
        self.continuing = set(candidates)
        self.winners: list[str] = []
        # What each ballot of a ranking is worth now: 1 until a winner's surplus moves on a
        # fraction of it (truncated to ``decimal_places``); what it left with each winner.
        self.weight: dict[Ranking, Decimal] = {r: Decimal(1) for r in ballots}
        # ballots x weight: whole numbers while the weight is 1 (sums of ints are fast)
        self.value: dict[Ranking, Decimal | int] = dict(ballots)
        self.kept: dict[str, Decimal] = defaultdict(Decimal)
        self.rounds: list[RankedRound] = []
        lot = (lambda tied: lot_order(rules.lot[0], rules.lot[1], tied)) if rules.lot else None
        self.tiebreak = Tiebreak(rules.tiebreak, rules.random_seed or 0, candidates, lot)
        self.quantum = Decimal(1).scaleb(-rules.decimal_places)
        self.choices: dict[Ranking, str] = {}
        self.inactive_as: dict[Ranking, str] = {}
        self.threshold = Decimal(0)

    def run(self, total_ballots: int, undervotes: int) -> RankedResult:
        finished = False
        while not finished:
            tally, inactive, choices = self._count()
            if self._recompute_threshold():
                active = sum(tally.values(), Decimal(0)) + inactive.get(
                    "finalRoundSurplus", Decimal(0))
                self.threshold = self._threshold(active)
            finished = self._close_round(tally, inactive, choices)
        return RankedResult(self.rounds, self.winners, len(self.candidates), total_ballots,
                            undervotes, self.tiebreak.draws)

    def _recompute_threshold(self) -> bool:
        if not self.rounds:
            return True
        if self.rules.seats > 1 or self.rules.first_round_threshold:
            return False
        return not (self.rules.continue_until_two and self.winners)

    def _count(self) -> tuple[dict[str, Decimal], dict[str, Decimal], dict[Ranking, str]]:
        """Each continuing candidate's votes, the inactive ballots by kind, and where each
        ranking counts. Once every seat is filled, what the last winners hold beyond their
        share moves to no one: the final round's surplus."""
        seats_filled = self.rules.seats > 1 and len(self.winners) == self.rules.seats
        # Whole numbers while every value is (a single-winner count), Decimals after.
        tally: dict[str, Decimal | int] = dict.fromkeys(self.continuing, 0)
        inactive: dict[str, Decimal | int] = dict.fromkeys(INACTIVE_KINDS, 0)
        if seats_filled:
            inactive["finalRoundSurplus"] = 0
        choices: dict[Ranking, str] = {}
        previous, continuing = self.choices, self.continuing
        for ranking, value in self.value.items():
            choice = previous.get(ranking)
            if choice in continuing and not seats_filled:  # the common case: it stays
                tally[choice] += value
                choices[ranking] = choice
                continue
            if seats_filled and choice in self.winners:
                inactive["finalRoundSurplus"] += value
                choices[ranking] = EXHAUSTED
                continue
            why = self.inactive_as.get(ranking)
            if choice not in continuing:  # a candidate still in stays the choice
                choice = None
                if why is None:
                    choice, why = current_choice(ranking, self.continuing, self.rules)
            if choice is None:  # once inactive, always inactive, and for the same reason
                self.inactive_as[ranking] = why
                inactive[why] += value
                choices[ranking] = EXHAUSTED
            else:
                tally[choice] += value
                choices[ranking] = choice
        return tally, inactive, choices

    def _threshold(self, votes: Decimal) -> Decimal:
        """Droop: floor(votes / (seats + 1)) + 1, or votes / (seats + 1) truncated to the
        decimal places + 10^-d with a non-integer threshold; Hare: votes / seats rounded
        up."""
        places = self.quantum if self.rules.non_integer_threshold else Decimal(1)
        if self.rules.hare_quota:
            return (votes / self.rules.seats).quantize(places, ROUND_UP)
        return (votes / (self.rules.seats + 1)).quantize(places, ROUND_DOWN) + places

    def _close_round(self, tally: dict[str, Decimal], inactive: dict[str, Decimal],
                     choices: dict[Ranking, str]) -> bool:
        """Record the round, then elect or eliminate; True when the count is over."""
        if self.rounds:
            self._transfers(self.rounds[-1], choices)
        self.choices = choices
        shown = {**{w: min(self.kept[w], self.threshold) for w in self.winners
                    if self.rules.seats > 1}, **tally}
        current = RankedRound(len(self.rounds) + 1, shown, self.threshold,
                              inactive=inactive)
        self.rounds.append(current)
        if len(self.winners) == self.rules.seats and (
                self.rules.seats > 1 or not self._more_rounds()):
            return True
        history = [r.tally for r in self.rounds]
        elected = self._winners(tally, history) if not self.winners or \
            self.rules.seats > 1 else []
        for candidate in sorted(elected, key=lambda c: (-tally[c], c)):
            self._elect(current, candidate, tally[candidate])
        if elected:
            return self.rules.seats == 1 and not self._more_rounds()
        self._eliminate(current, {c: tally[c] for c in self.continuing
                                  if c not in self.winners}, history)
        return False

    def _more_rounds(self) -> bool:
        """Single winner, continuing until two remain: more eliminations to come."""
        return self.rules.continue_until_two and len(self.continuing) > 2

    def _winners(self, tally: dict[str, Decimal], history: list) -> list[str]:
        """Who wins this round: every continuing candidate when no more continue than seats
        are left; else those at the threshold (only the first with one winner per round);
        else, with one seat and two candidates left, the one ahead. None while undeclared
        write-ins hold votes."""
        if tally.get(UNDECLARED_WRITE_INS, Decimal(0)) > 0:
            return []
        standing = {c: v for c, v in tally.items() if c not in self.winners}
        seats_left = self.rules.seats - len(self.winners)
        if len(standing) <= seats_left:
            return list(standing)
        reached = [c for c, v in standing.items() if v >= self.threshold]
        if not reached and self.rules.seats == 1 and len(standing) == 2:
            reached = list(standing)
        if len(reached) > 1 and (self.rules.seats == 1 or
                                 self.rules.winner_mode == "one_winner_per_round"):
            top = max(standing[c] for c in reached)
            tied = sorted(c for c in reached if standing[c] == top)
            reached = [tied[0] if len(tied) == 1 else
                       self.tiebreak.pick(tied, loser=False, history=history)]
        return reached[:seats_left]

    def _elect(self, current: RankedRound, candidate: str, votes: Decimal) -> None:
        """Elect; in a multi-winner count every ballot the winner holds moves on at the
        fraction surplus / votes of its value (truncated), the rest staying with them."""
        current.elected.append(candidate)
        self.winners.append(candidate)
        if self.rules.seats == 1:
            if not self.rules.continue_until_two:
                self.continuing.discard(candidate)
            return
        self.continuing.discard(candidate)
        surplus = votes - self.threshold
        fraction = (surplus / votes).quantize(self.quantum, ROUND_DOWN) if surplus > 0 \
            else Decimal(0)
        for ranking, choice in self.choices.items():
            if choice == candidate:
                moving = (self.weight[ranking] * fraction).quantize(self.quantum, ROUND_DOWN)
                self.kept[candidate] += (self.weight[ranking] - moving) * self.ballots[ranking]
                self.weight[ranking] = moving
                self.value[ranking] = moving * self.ballots[ranking]

    def _eliminate(self, current: RankedRound, standing: dict[str, Decimal],
                   history: list) -> None:
        """Undeclared write-ins with votes go first, on their own; then, with batch
        elimination, every candidate of the last group that together has fewer votes
        than the one above it; otherwise the last candidate (a tie by the tie-break)."""
        if standing.get(UNDECLARED_WRITE_INS, Decimal(0)) > 0:
            batch = [UNDECLARED_WRITE_INS]
        elif self.rules.batch_elimination:
            batch = _batch(standing, keep=2 if self.rules.continue_until_two else 1)
        else:
            batch = []
        if not batch:
            lowest = min(standing.values())
            tied = sorted(c for c in standing if standing[c] == lowest)
            batch = [tied[0] if len(tied) == 1 else
                     self.tiebreak.pick(tied, loser=True, history=history)]
        current.eliminated.extend(sorted(batch))
        self.continuing -= set(batch)

    def _transfers(self, previous: RankedRound, choices: dict[Ranking, str]) -> None:
        """Where the ballots of the previous round's winners and losers went ("exhausted":
        to no one); what a winner holds beyond the threshold is its "residual surplus"."""
        moved = set(previous.elected) | set(previous.eliminated)
        for ranking, was in self.choices.items():
            if was not in moved:
                continue
            now = choices.get(ranking, EXHAUSTED)
            if now == was:
                continue
            value = self.value[ranking]
            if value > 0:
                flows = previous.transfers.setdefault(was, defaultdict(Decimal))
                flows[now] += value
        for candidate in previous.elected:
            if self.rules.seats > 1 and self.kept[candidate] > self.threshold:
                flows = previous.transfers.setdefault(candidate, defaultdict(Decimal))
                flows["residual surplus"] = self.kept[candidate] - self.threshold


def _batch(standing: Mapping[str, Decimal], keep: int = 1) -> list[str]:
    """The candidates eliminated together: the largest group of the last ones whose votes
    together are fewer than the votes of every candidate above them; only a group of more
    than one, leaving at least ``keep`` candidates."""
    levels = sorted(set(standing.values()))
    below, batch = Decimal(0), []
    for votes in levels:
        if below < votes:
            candidate_batch = [c for c in standing if standing[c] < votes]
            if len(standing) - len(candidate_batch) >= keep:
                batch = candidate_batch
        below += votes * sum(1 for v in standing.values() if v == votes)
    return batch if len(batch) > 1 else []
