"""An election's ballot: its contests in ballot order, what each allows, its options.

Loaded by one query (``ballot_layouts``) for the tally, the recount and the simulator, so
the rule for how many selections a contest allows is written once.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from tallyflow import db


@dataclass(frozen=True)
class ContestLayout:
    contest_id: str
    kind: str
    options: tuple[str, ...]  # in ballot order
    max_selections: int  # plurality: its seats; yes/no: 1; approval and ranked: every option


def ballot_layouts(cur, election_ids: Iterable[str]) -> dict[str, list[ContestLayout]]:
    """Each given election's contests in ballot order (an election without contests is
    absent)."""
    cur.execute(db.query("ballot_layouts"), {"election_ids": list(election_ids)})
    return group_layouts(cur.fetchall())


def group_layouts(rows: Iterable[tuple]) -> dict[str, list[ContestLayout]]:
    """Layouts from (election_id, contest_id, kind, max_selections, option_id) rows in
    ballot order."""
    grouped: dict[str, dict[str, tuple[str, int, list[str]]]] = {}
    for election_id, contest_id, kind, max_selections, option_id in rows:
        contest = grouped.setdefault(election_id, {}).setdefault(
            contest_id, (kind, max_selections, []))
        if option_id is not None:
            contest[2].append(option_id)
    return {election_id: [ContestLayout(c, kind, tuple(options), most)
                          for c, (kind, most, options) in contests.items()]
            for election_id, contests in grouped.items()}


def option_rows(layouts: Mapping[str, Sequence[ContestLayout]]) -> list[tuple]:
    """(election_id, contest_id, option_id, max_selections) for every option."""
    return [(election_id, contest.contest_id, option, contest.max_selections)
            for election_id, contests in layouts.items() for contest in contests
            for option in contest.options]
