"""Step 4: reconcile the recount, the ledger, the broker's offsets, the roll and the
outbox; any discrepancy refuses certification with a report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tallyflow import db
from tallyflow.certification.steps import SUITE_PREFIX, CertificationRefused, step

DATA_SOURCE = "certification"
# Each check's rows, read in one snapshot.
RECONCILE_QUERIES = {"recount": "reconcile_cells", "ledger": "reconcile_ledger",
                     "partitions": "reconcile_partitions", "turnout": "reconcile_turnout"}


@dataclass(frozen=True)
class Check:
    """One reconciliation check: its frame's column pair, how they must compare, and the
    columns that say where a row is."""

    name: str
    description: str
    kind: str  # equal | at_least
    column_a: str
    column_b: str
    where: tuple[str, ...]

    def expectation(self):
        from tallyflow.quality import pair_expectation

        return pair_expectation(self.kind, self.column_a, self.column_b, self.description)

    def discrepancies(self, frame) -> list[dict[str, Any]]:
        a, b = frame[self.column_a], frame[self.column_b]
        bad = frame[(a != b) if self.kind == "equal" else (a < b)]
        return [
            {
                "check": self.name,
                "where": " ".join(str(row[c]) for c in self.where),
                "expected": (f"{self.column_a} = {self.column_b} ({row[self.column_b]})"
                             if self.kind == "equal" else
                             f"{self.column_a} ({row[self.column_a]}) ≥ {self.column_b}"),
                "found": (f"{self.column_a} {row[self.column_a]}" if self.kind == "equal"
                          else f"{self.column_b} {row[self.column_b]}"),
            }
            for _, row in bad.iterrows()
        ]


CHECKS = (
    Check("recount", "recount = live aggregates, cell by cell", "equal", "recount", "live",
          ("metric", "item")),
    Check("ledger", "counted ballots = check-ins", "equal", "ballots", "checkins",
          ("region_id",)),
    Check("partitions", "counted + rejected + waiting for their group = events consumed, "
          "per partition", "equal",
          "accounted", "consumed", ("partition",)),
    Check("turnout", "turnout ≤ registered, per region", "at_least", "registered", "ballots",
          ("region_id",)),
    Check("outbox", "every receipted ballot was counted or rejected", "equal", "settled",
          "required", ("event_id", "receipt")),
    Check("roll", "the voter roll is unchanged since opening", "equal", "current", "frozen",
          ("what",)),
    Check("quality", "the latest data-quality checks passed", "equal", "status", "required",
          ("what",)),
)


def reconciliation_frames(url: str, election_id: str, topic: str,
                          final_offsets: Mapping[int, int], quality_status: str) -> dict:
    """Each check's frame, read in one snapshot."""
    import pandas as pd
    import psycopg2.extensions

    from tallyflow.registrations.roll import roll_fingerprint
    from tallyflow.votes import outbox

    params = {"election_id": election_id, "topic": topic,
              "partitions": sorted(int(p) for p in final_offsets)}
    frames = {}
    with db.connection(url) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor() as cur:
            for name, query in RECONCILE_QUERIES.items():
                cur.execute(db.query(query), params)
                frames[name] = pd.DataFrame(cur.fetchall(),
                                            columns=[c.name for c in cur.description])
            cur.execute(db.query("election_roll_fingerprint"), {"election_id": election_id})
            (frozen,) = cur.fetchone()
    unsettled = outbox.unsettled(url, election_id)
    frames["outbox"] = pd.DataFrame(
        [{"event_id": str(row["event_id"]), "receipt": row["receipt"], "settled": 0,
          "required": 1} for row in unsettled],
        columns=["event_id", "receipt", "settled", "required"]).astype(
        {"settled": "int64", "required": "int64"})
    partitions = frames["partitions"]
    partitions["accounted"] = (partitions["accepted"] + partitions["rejected"]
                               + partitions["held"])
    frames["roll"] = pd.DataFrame([{"what": "roll fingerprint", "frozen": frozen or "",
                                    "current": roll_fingerprint(url, election_id)}])
    frames["quality"] = pd.DataFrame([{"what": "tally data-quality gate",
                                       "status": quality_status, "required": "ok"}])
    for frame in frames.values():
        for column in frame.columns:
            if frame[column].dtype == object and column not in ("what", "metric", "item",
                                                                "region_id", "frozen",
                                                                "current", "status",
                                                                "required", "event_id",
                                                                "receipt"):
                frame[column] = frame[column].astype("int64")
    return frames


def reconcile(url: str, election_id: str, topic: str, final_offsets: Mapping[int, int], *,
              project_dir: Path | None, actor: str) -> dict[str, Any]:
    """Run the reconciliation suite; raise :class:`CertificationRefused` on any discrepancy.

    It first runs the tally's data-quality gate once more, so "the latest checks passed"
    is about the drained state. Returns the figures each check compared and the reports.
    """
    from tallyflow.quality import record_validation_runs, run_suites
    from tallyflow.votes.quality import check_aggregates

    with step(url, election_id, "reconcile", actor) as detail:
        verdict = check_aggregates(url, election_id, topic, project_dir)
        frames = reconciliation_frames(url, election_id, topic, final_offsets, verdict.status)
        results = run_suites(project_dir, DATA_SOURCE, election_id,
                             {c.name: (frames[c.name], [c.expectation()]) for c in CHECKS})
        run_ids = record_validation_runs(url, election_id, results, suite_prefix=SUITE_PREFIX)
        discrepancies = [d for c in CHECKS for d in c.discrepancies(frames[c.name])]
        failed_suites = {r.suite_name for r in results if not r.is_passed}
        if failed_suites - {d["check"] for d in discrepancies}:  # GX saw what pandas did not
            discrepancies += [{"check": name, "where": "(see the report)",
                               "expected": "the suite to pass", "found": "it failed"}
                              for name in sorted(failed_suites)]
        figures = _figures(frames)
        reports = {SUITE_PREFIX + r.suite_name: r.report_path for r in results if r.report_path}
        reports.update({"tally." + name: path for name, path in verdict.report_paths.items()})
        detail.update(figures=figures, validation_run_ids=run_ids, reports=reports)
        if discrepancies:
            detail["discrepancies"] = discrepancies
            raise CertificationRefused(
                f"certification of {election_id!r} refused: {len(discrepancies)} "
                f"discrepanc{'y' if len(discrepancies) == 1 else 'ies'}", discrepancies)
    return {"figures": figures, "validation_run_ids": run_ids, "reports": reports}


def _figures(frames) -> dict[str, Any]:
    """The numbers each check compared, for the certificate (small, JSON-ready)."""
    recount = frames["recount"]
    ledger = frames["ledger"]
    return {
        "recount": {
            "cells_compared": len(recount),
            "cells_differing": int((recount["live"] != recount["recount"]).sum()),
        },
        "ledger": {row.region_id: {"ballots": int(row.ballots), "checkins": int(row.checkins)}
                   for row in ledger.itertuples()},
        "partitions": {str(row.partition): {"counted": int(row.accepted),
                                            "rejected": int(row.rejected),
                                            "waiting": int(row.held),
                                            "consumed": int(row.consumed)}
                       for row in frames["partitions"].itertuples()},
        "turnout": {row.region_id: {"registered": int(row.registered),
                                    "ballots": int(row.ballots)}
                    for row in frames["turnout"].itertuples()},
        "roll_fingerprint_unchanged": bool(
            (frames["roll"]["frozen"] == frames["roll"]["current"]).all()),
        "data_quality": frames["quality"]["status"].iloc[0],
        "receipted_ballots_unsettled": len(frames["outbox"]),
    }
