"""Ties in a ranked count, broken as RCTab breaks them: by the candidates' order, by
java.util.Random's draw from a seed (so a seed gives RCTab's draw), or by the previous
rounds' counts and then that draw."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal


class JavaRandom:
    """java.util.Random's generator (a 48-bit linear congruential one), so that a seed gives
    the draws RCTab makes with it."""

    _MULTIPLIER, _ADDEND, _MASK = 0x5DEECE66D, 0xB, (1 << 48) - 1

    def __init__(self, seed: int) -> None:
        self._seed = (seed ^ self._MULTIPLIER) & self._MASK

    def _next(self, bits: int) -> int:
        self._seed = (self._seed * self._MULTIPLIER + self._ADDEND) & self._MASK
        return self._seed >> (48 - bits)

    def next_double(self) -> float:
        return ((self._next(26) << 27) + self._next(27)) * 2.0 ** -53


def _java_hash(text: str) -> int:
    """Java's String.hashCode (over UTF-16 code units), as a signed 32-bit int."""
    h = 0
    for unit in text.encode("utf-16-be").hex(" ", 2).split():
        h = (31 * h + int(unit, 16)) & 0xFFFFFFFF
    return h - (1 << 32) if h >= 1 << 31 else h


def _hash_set_order(names: list[str]) -> list[str]:
    """The order a Java HashSet of ``names`` iterates in (RCTab draws from it when the
    previous rounds leave a tie)."""
    capacity = 16
    while len(names) > capacity * 0.75:
        capacity *= 2

    def bucket(name: str) -> int:
        h = _java_hash(name) & 0xFFFFFFFF
        return (h ^ (h >> 16)) & (capacity - 1)

    return sorted(names, key=bucket)  # stable: insertion order within a bucket


class Tiebreak:
    """Who is picked among tied candidates, by the rules' mode, as RCTab picks."""

    def __init__(self, mode: str, seed: int, candidates: Sequence[str],
                 lot: Callable[[list[str]], list[str]] | None = None) -> None:
        """``mode``: random | previous_round_counts_then_random | candidate_order | lot
        (``lot`` orders the tied candidates: the first wins, the last is eliminated)."""
        self.mode, self.order, self.lot = mode, list(candidates), lot
        self.random = JavaRandom(seed)
        self.draws: list[dict] = []  # every tie broken by lot, for the certificate

    def pick(self, tied: list[str], *, loser: bool, history: list[dict[str, Decimal]]
             ) -> str:
        """``history``: each round's tally so far, the current one last."""
        ordered = sorted(tied)
        mode = self.mode
        if mode == "lot" and self.lot is not None:
            drawn = self.lot(ordered)
            picked = drawn[-1] if loser else drawn[0]
            self.draws.append({"tied": ordered, "draw": drawn, "round": len(history),
                               "eliminated" if loser else "elected": picked})
            return picked
        if mode == "candidate_order":
            by_order = sorted(tied, key=self.order.index)
            return by_order[-1] if loser else by_order[0]
        if mode == "previous_round_counts_then_random" and len(history) > 1:
            for tally in reversed(history[:-1]):
                scores = {c: tally.get(c, Decimal(0)) for c in ordered}
                best = min(scores.values()) if loser else max(scores.values())
                ordered = [c for c in ordered if scores[c] == best]
                if len(ordered) == 1:
                    return ordered[0]
            ordered = _hash_set_order(ordered)
        return ordered[int(self.random.next_double() * len(ordered))]
