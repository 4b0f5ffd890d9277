"""A batch's aggregate increments, summed in the driver from its per-event outcomes (Arrow)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa

if TYPE_CHECKING:
    pass


def _count(table: pa.Table, keys: list[str]) -> list[tuple]:
    """(*keys, n) for each distinct combination of ``keys`` in ``table``."""
    counted = table.select(keys).group_by(keys).aggregate([([], "count_all")])
    return list(zip(*(counted.column(k).to_pylist() for k in [*keys, "count_all"]),
                    strict=True))


def increments(per_event: pa.Table) -> dict[str, list[tuple]]:
    """A batch's aggregate increments from its ``outcomes``, as each table's upsert takes
    them: (election_id, *keys, n) per kind.

    The events are in the driver already (the ledger stores each of them), so the sums are
    taken there, vectorised with Arrow, rather than in a second Spark job. Kinds: option
    (contest, option), option_region (contest, option, region), option_method (contest,
    option, region, vote method), option_vote_method (contest, option, vote method),
    contest (contest, ballots, blank, undervote, overvote, off-ballot), contest_method
    (contest, region, vote method), region, region_method (region, vote method),
    demographic (age band, gender), minute and rejected_total (reason), ranking (contest,
    region, the ranking as JSON) and ranking_contest (contest, ranking: the same summed
    over regions). An option counts where its contest's mark is
    ``counted`` or ``undervote``; a ranked contest's ranking wherever the ballot ranked
    anyone in it on the voter's ballot. A contest's ballots are those it was on (every mark
    but ``off_ballot``).
    """
    import pyarrow.compute as pc

    counted = pc.is_null(per_event.column("reason"))
    accepted = per_event.filter(counted)
    rejected = per_event.filter(pc.invert(counted))
    by_kind: dict[str, list[tuple]] = {
        "region": _count(accepted, ["election_id", "region_id"]),
        "region_method": _count(accepted, ["election_id", "region_id", "vote_method"]),
        "demographic": _count(accepted, ["election_id", "age_band", "gender"]),
        "minute": _count(accepted.append_column(
            "minute", pc.floor_temporal(accepted.column("judged_at"), unit="minute")),
            ["election_id", "minute"]),
        "rejected_total": _count(rejected.set_column(
            rejected.schema.get_field_index("election_id"), "election_id",
            pc.fill_null(rejected.column("election_id"), "")), ["election_id", "reason"]),
    }
    contests = _contest_marks(accepted)
    by_kind["contest"] = _contest_totals(contests)
    by_kind["contest_method"] = _count(
        contests.filter(pc.not_equal(contests.column("mark"), "off_ballot")),
        ["election_id", "contest_id", "region_id", "vote_method"])
    voting = contests.filter(pc.is_in(contests.column("mark"),
                                      pa.array(["counted", "undervote"])))
    selections = voting.column("selections").combine_chunks()
    picks = voting.take(pc.list_parent_indices(selections)).select(
        ["election_id", "contest_id", "region_id", "vote_method"]).append_column(
        "option_id", pc.list_flatten(selections))
    by_kind["option_method"] = _count(
        picks, ["election_id", "contest_id", "option_id", "region_id", "vote_method"])
    by_kind["option_vote_method"] = _count(
        picks, ["election_id", "contest_id", "option_id", "vote_method"])
    by_kind["option_region"] = _count(
        picks, ["election_id", "contest_id", "option_id", "region_id"])
    by_kind["option"] = _count(picks, ["election_id", "contest_id", "option_id"])
    by_kind["ranking"] = _rankings(contests)
    by_kind["ranking_contest"] = _summed(by_kind["ranking"])
    return {kind: rows for kind, rows in by_kind.items() if rows}


def _contest_marks(accepted: pa.Table) -> pa.Table:
    """One row per counted ballot × contest mark, with the ballot's cell and method."""
    import pyarrow.compute as pc

    marks_column = accepted.column("marks").combine_chunks()
    marks = pc.list_flatten(marks_column)
    owner = pc.list_parent_indices(marks_column)
    return pa.table({
        "election_id": accepted.column("election_id").take(owner),
        "region_id": accepted.column("region_id").take(owner),
        "vote_method": accepted.column("vote_method").take(owner),
        "contest_id": pc.struct_field(marks, "contest_id"),
        "mark": pc.struct_field(marks, "mark"),
        "selections": pc.struct_field(marks, "selections"),
        "ranked": pc.struct_field(marks, "ranked"),
    })


def _contest_totals(contests: pa.Table) -> list[tuple]:
    """(election_id, contest_id, ballots, blank, undervote, overvote, off_ballot)."""
    totals: dict[tuple[str, str], list[int]] = {}
    slots = {"blank": 1, "undervote": 2, "overvote": 3, "off_ballot": 4}
    for election_id, contest_id, mark, n in _count(contests,
                                                   ["election_id", "contest_id", "mark"]):
        row = totals.setdefault((election_id, contest_id), [0, 0, 0, 0, 0])
        if mark != "off_ballot":
            row[0] += n
        if mark in slots:
            row[slots[mark]] += n
    return [(e, c, *t) for (e, c), t in totals.items()]


def _rankings(contests: pa.Table) -> list[tuple]:
    """(election_id, contest_id, region_id, ranking, n): the ballots of each distinct
    ranking of a ranked contest, as cast (JSON, no spaces: what the recount writes too)."""
    import json
    from collections import Counter

    import pyarrow.compute as pc

    ranked = contests.filter(pc.and_(
        pc.fill_null(contests.column("ranked"), False),
        pc.invert(pc.is_in(contests.column("mark"), pa.array(["blank", "off_ballot"])))))
    counted = Counter(
        (row["election_id"], row["contest_id"], row["region_id"],
         json.dumps(row["selections"], separators=(",", ":")))
        for row in ranked.select(["election_id", "contest_id", "region_id", "selections"])
        .to_pylist())
    return [(*key, n) for key, n in counted.items()]


def _summed(rankings: list[tuple]) -> list[tuple]:
    """(election_id, contest_id, ranking, n): per-region rankings summed over regions."""
    from collections import Counter

    summed: Counter = Counter()
    for election_id, contest_id, _region, ranking, n in rankings:
        summed[election_id, contest_id, ranking] += n
    return [(*key, n) for key, n in summed.items()]
