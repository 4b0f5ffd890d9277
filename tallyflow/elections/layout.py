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
    # Its ballot style: the regions of its district (None: every region) and the party
    # whose primary it is (None: every voter's).
    regions: frozenset[str] | None = None
    party: str | None = None

    def on_ballot(self, region_id: str | None, party_id: str | None) -> bool:
        """Whether this contest is on the ballot of a voter of ``region_id`` and
        ``party_id``: the one rule of ballot styles (the tally, the recount and the
        casting API each apply it as written in ``docs/events.md``)."""
        return ((self.regions is None or region_id in self.regions)
                and (self.party is None or self.party == party_id))


def ballot_of(contests: Iterable[ContestLayout], region_id: str | None,
              party_id: str | None) -> list[ContestLayout]:
    """The contests on the ballot of a voter of ``region_id`` and ``party_id``."""
    return [c for c in contests if c.on_ballot(region_id, party_id)]


def ballot_layouts(cur, election_ids: Iterable[str]) -> dict[str, list[ContestLayout]]:
    """Each given election's contests in ballot order (an election without contests is
    absent)."""
    cur.execute(db.query("ballot_layouts"), {"election_ids": list(election_ids)})
    return group_layouts(cur.fetchall())


def group_layouts(rows: Iterable[tuple]) -> dict[str, list[ContestLayout]]:
    """Layouts from (election_id, contest_id, kind, max_selections, district_regions,
    party_id, option_id) rows in ballot order."""
    fields = ("election_id", "contest_id", "kind", "max_selections", "district_regions",
              "party_id", "option_id")
    by_election: dict[str, list[Mapping[str, Any]]] = {}
    for row in rows:
        record = dict(zip(fields, row, strict=True))
        by_election.setdefault(record["election_id"], []).append(record)
    return {
        election_id: [ContestLayout(c["contest_id"], c["kind"],
                                    tuple(o["option_id"] for o in c["options"]),
                                    c["max_selections"],
                                    None if c["regions"] is None else frozenset(c["regions"]),
                                    c["party"])
                      for c in group_contests(records, {"kind": "kind",
                                                        "max_selections": "max_selections",
                                                        "regions": "district_regions",
                                                        "party": "party_id"},
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
    """(election_id, contest_id, option_id, max_selections, kind, regions, party) for every
    option (regions: the district's, sorted, or None)."""
    return [(election_id, contest.contest_id, option, contest.max_selections, contest.kind,
             None if contest.regions is None else sorted(contest.regions), contest.party)
            for election_id, contests in layouts.items() for contest in contests
            for option in contest.options]
