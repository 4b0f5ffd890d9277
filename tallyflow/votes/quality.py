"""The data-quality gate on the tally's aggregates, run after every batch.

Four Great Expectations suites, on frames read from Postgres in one snapshot:

- ``contests``: per contest, the ballots that reached it equal the stored ballots whose
  style carries it, and the stored ballots equal the check-ins; a counted contest gives
  at least one vote and at most its allowed selections; option totals equal the sum of
  their per-region totals;
- ``turnout``: no region has more ballots than registered voters;
- ``counts``: no aggregate count ever goes down (against ``aggregate_snapshots``, the
  counts of the last state that passed every check);
- ``accounting``: counted + rejected + waiting for their group = events read, for the
  votes topic.

A failed check puts the election's results on ``quality_hold`` in ``result_quality``,
which the results site shows, until a later check passes; every run is recorded in
``validation_runs``. Between batches the suites run in memory (a few tens of
milliseconds); with a GX project directory they also write a Data Docs report, which the
tally does when a verdict changes and when it finishes a run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe
import pandas as pd
import psycopg2.extensions
from psycopg2.extras import Json, execute_values

from tallyflow import db
from tallyflow.quality import (
    SuiteResult,
    pair_expectation,
    record_validation_runs,
    run_suites,
)

DATA_SOURCE = "tally"
SUITE_PREFIX = "tally."
SUITES = ("contests", "turnout", "counts", "accounting")
QUERIES = {
    "contests": "tally_quality_contests",
    "turnout": "tally_quality_turnout",
    "counts": "tally_quality_counts",
    "accounting": "tally_quality_accounting",
}


@functools.cache
def aggregate_suites() -> dict[str, list[gxe.Expectation]]:
    """The gate's suites, built once: the same lists every time let ``run_suites`` reuse
    its in-memory checkpoints."""
    return {
        "contests": [
            pair_expectation("equal", "ballots", "electorate_ballots",
                             "every counted ballot reaches each contest on its ballot: "
                             "ballots = stored ballots of the contest's ballot style"),
            pair_expectation("equal", "checkins", "stored_ballots",
                             "one stored ballot per check-in"),
            pair_expectation("equal", "votes", "region_votes",
                             "option totals = the sum of their per-region totals"),
            pair_expectation("at_least", "votes", "counted_ballots",
                             "a counted contest gives at least one vote"),
            pair_expectation("at_least", "most_votes", "votes",
                             "no contest has more votes than its ballots allow"),
        ],
        "turnout": [
            pair_expectation("at_least", "registered", "ballots", "turnout ≤ registered voters"),
        ],
        "counts": [
            pair_expectation("at_least", "current_value", "previous_value",
                             "counts never decrease"),
        ],
        "accounting": [
            pair_expectation("equal", "accounted", "consumed",
                             "counted + rejected + waiting events = events read"),
        ],
    }


def _last_status(url: str, election_id: str) -> str | None:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("result_quality_status"), {"election_id": election_id})
        row = cur.fetchone()
    return row[0] if row else None


def aggregate_frames(url: str, election_id: str, topic: str) -> dict[str, pd.DataFrame]:
    """The suites' frames, all read in one consistent snapshot."""
    params = {"election_id": election_id, "topic": topic}
    frames = {}
    with db.connection(url) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor() as cur:
            for name in SUITES:
                cur.execute(db.query(QUERIES[name]), params)
                columns = [c.name for c in cur.description]
                frames[name] = pd.DataFrame(cur.fetchall(), columns=columns)
    accounting = frames["accounting"]
    accounting["accounted"] = (accounting["accepted"] + accounting["rejected"]
                               + accounting["held"])
    return frames


@dataclass
class QualityVerdict:
    election_id: str
    status: str  # ok | quality_hold
    previous_status: str | None
    results: list[SuiteResult] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.status != self.previous_status

    @property
    def failures(self) -> list[str]:
        return [f"{r.suite_name}: {f['summary']}" for r in self.results for f in r.failures
                if f["severity"] == "critical"]

    @property
    def report_paths(self) -> dict[str, str]:
        return {r.suite_name: r.report_path for r in self.results if r.report_path}


def check_aggregates(url: str, election_id: str, topic: str,
                     project_dir: Path | None = None, *,
                     report_only_on_change: bool = False) -> QualityVerdict:
    """Run the gate for one election, record it, and set or lift its quality hold.

    With a ``project_dir`` the run writes a Data Docs report; with
    ``report_only_on_change`` only when the verdict differs from the last one (the suites
    then run in memory first, and again on the same frames for the report).
    """
    frames = aggregate_frames(url, election_id, topic)
    suites = aggregate_suites()
    checks = {name: (frames[name], suites[name]) for name in SUITES}
    in_memory = project_dir is None or report_only_on_change
    results = run_suites(None if in_memory else project_dir, DATA_SOURCE, election_id, checks)
    if in_memory and project_dir is not None:
        status = "ok" if all(r.is_passed for r in results) else "quality_hold"
        if status != _last_status(url, election_id):
            results = run_suites(project_dir, DATA_SOURCE, election_id, checks)
    run_ids = record_validation_runs(url, election_id, results, suite_prefix=SUITE_PREFIX)
    failed = [run_id for run_id, r in zip(run_ids, results, strict=True) if not r.is_passed]
    status = "quality_hold" if failed else "ok"
    failures: list[dict[str, Any]] = [{"suite": SUITE_PREFIX + r.suite_name, **f}
                                      for r in results for f in r.failures]
    counts = frames["counts"]
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("record_result_quality"), {
            "election_id": election_id, "status": status,
            "validation_run_id": (failed or run_ids)[0], "failures": Json(failures),
        })
        (previous,) = cur.fetchone()
        if status == "ok" and len(counts):  # a state that passes is the new baseline
            execute_values(cur, db.query("save_aggregate_snapshots"), [
                (election_id, m, i, int(v)) for m, i, v in
                counts[["metric", "item", "current_value"]].itertuples(index=False)
            ], page_size=1000)
    return QualityVerdict(election_id, status, previous, results)
