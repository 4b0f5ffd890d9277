"""An election's ballot: its contests in ballot order, what each allows, its options.

Loaded by one query (``ballot_layouts``) for the tally, the recount and the simulator, so
the rule for how many selections a contest allows is written once. Rows that carry more
(titles, names, votes: the certificate's and the site's queries) are grouped into contests
by :func:`group_contests`, the one loop that does so.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

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
    fields = ("election_id", "contest_id", "kind", "max_selections", "option_id")
    by_election: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        record = dict(zip(fields, row, strict=True))
        by_election.setdefault(record["election_id"], []).append(record)
    return {
        election_id: [ContestLayout(c["contest_id"], c["kind"],
                                    tuple(o["option_id"] for o in c["options"]),
                                    c["max_selections"])
                      for c in group_contests(records, {"kind": "kind",
                                                        "max_selections": "max_selections"},
                                              {"option_id": "option_id"})]
        for election_id, records in by_election.items()
    }


def group_contests(rows: Iterable[Mapping[str, Any]], contest: Mapping[str, str],
                   option: Mapping[str, str]) -> list[dict[str, Any]]:
    """One election's rows in ballot order (one per option; a contest without options has
    one row with a null ``option_id``) as contests in that order, each with ``contest_id``,
    the ``contest`` fields and its ``options``, each with the ``option`` fields (both map
    the name wanted to the row's column)."""
    contests: dict[str, dict[str, Any]] = {}
    for row in rows:
        grouped = contests.setdefault(row["contest_id"], {
            "contest_id": row["contest_id"],
            **{name: row[column] for name, column in contest.items()}, "options": []})
        if row["option_id"] is not None:
            grouped["options"].append({name: row[column] for name, column in option.items()})
    return list(contests.values())


def option_rows(layouts: Mapping[str, Sequence[ContestLayout]]) -> list[tuple]:
    """(election_id, contest_id, option_id, max_selections, kind) for every option."""
    return [(election_id, contest.contest_id, option, contest.max_selections, contest.kind)
            for election_id, contests in layouts.items() for contest in contests
            for option in contest.options]
