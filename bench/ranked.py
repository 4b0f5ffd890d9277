"""Ranked-choice tabulation from stored counts: 1,000,000 ranked ballots over 8 candidates.

``python bench/ranked.py [--ballots N] [--candidates K] [--seed S]`` draws ballots from a
seeded preference model (each voter ranks 1..K candidates, partial rankings common, a few
overvotes and skipped ranks), counts each distinct ranking (what the tally would store),
then times IRV and 3-seat STV over those counts. Targets: IRV <= 1 s, STV <= 5 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tallyflow.tabulation.ranked import RankedRules, tabulate


def draw(ballots: int, candidates: list[str], seed: int) -> Counter:
    rng = random.Random(seed)
    strength = {c: rng.gammavariate(2.0, 1.0) for c in candidates}
    counts: Counter = Counter()
    for _ in range(ballots):
        order = sorted(candidates, key=lambda c: -rng.random() ** (1 / strength[c]))
        depth = min(len(order), max(1, int(rng.expovariate(0.35)) + 1))
        ranking = [(c,) for c in order[:depth]]
        if rng.random() < 0.01 and depth > 1:  # an overvote at some rank
            i = rng.randrange(depth - 1)
            ranking[i] = (ranking[i][0], ranking[i + 1][0])
        if rng.random() < 0.02:  # a skipped rank
            ranking.insert(rng.randrange(len(ranking) + 1), ())
        counts[tuple(ranking)] += 1
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    parser.add_argument("--candidates", type=int, default=8)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    candidates = [f"candidate-{i + 1}" for i in range(args.candidates)]
    started = time.perf_counter()
    counts = draw(args.ballots, candidates, args.seed)
    print(f"drew {args.ballots:,} ballots in {time.perf_counter() - started:.1f} s: "
          f"{len(counts):,} distinct rankings")
    for name, rules in (
            ("IRV", RankedRules(max_skipped_ranks=1)),
            ("STV, 3 seats", RankedRules(seats=3, winner_mode="multiple_winners_per_round",
                                         max_skipped_ranks=1, decimal_places=4))):
        started = time.perf_counter()
        result = tabulate(counts, candidates, rules)
        seconds = time.perf_counter() - started
        print(f"{name}: {seconds:.2f} s, {len(result.rounds)} rounds, "
              f"winners {', '.join(result.winners)}")


if __name__ == "__main__":
    main()
