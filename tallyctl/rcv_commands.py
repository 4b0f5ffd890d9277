"""``tallyflow rcv tabulate``: a ranked-choice contest from RCTab's files, round by round."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from tallyflow.settings import Settings


def cmd_rcv_tabulate(_settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.rctab import read_config, read_cvr_csv, summary
    from tallyflow.tabulation.ranked import tabulate

    started = time.perf_counter()
    output, candidates, rules, write_in = read_config(args.config)
    ballots = read_cvr_csv(args.cvr, candidates, write_in)
    print(f"read {sum(ballots.values()):,} ballots ({len(ballots):,} distinct rankings) "
          f"for {len(candidates)} candidates")
    result = tabulate(ballots, candidates, rules)
    document = summary(result, output, rules.decimal_places)
    Path(args.out).write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    for r in result.rounds:
        decided = ", ".join([f"elected {c}" for c in r.elected]
                            + [f"eliminated {c}" for c in r.eliminated]) or "-"
        print(f"round {r.number}: threshold {r.threshold}; {decided}")
    print(f"winner(s): {', '.join(result.winners)}; summary in {args.out} "
          f"({time.perf_counter() - started:.2f} s)")
    return 0


def add_rcv_commands(commands) -> None:
    rcv = commands.add_parser("rcv", help="ranked-choice tabulation (RCTab's files)")
    actions = rcv.add_subparsers(dest="action", required=True)
    tab = actions.add_parser(
        "tabulate", help="tabulate RCTab cast vote records with an RCTab contest "
                         "configuration; writes RCTab's summary JSON")
    tab.add_argument("--cvr", required=True, type=Path,
                     help="cast vote records in RCTab's CVR CSV layout (Rank 1 … Rank N)")
    tab.add_argument("--config", required=True, type=Path,
                     help="RCTab contest configuration JSON (its candidates and rules)")
    tab.add_argument("--out", required=True, type=Path, help="where to write the summary")
    tab.set_defaults(func=cmd_rcv_tabulate)
