"""
### Tally votes

Turns vote events on the votes topic into counted ballots and aggregates in PostgreSQL.

The DAG is `@continuous` with one active run: each run's task keeps a Spark Connect session
on the warm server and runs micro-batches back to back for about five minutes, then the
next run starts. Results stay seconds fresh, and every five minutes of tallying is a run in
the Airflow grid with its log (events, counted, rejected, rate per batch). Between two
runs the tally pauses for about ten seconds (the closing quality report, the next task's
start-up and its first batch), so runs are long to keep those pauses rare.

Each batch reads every partition from the offsets committed in PostgreSQL to its end,
checks every event, keeps each voter's first valid ballot, and commits ballots, check-ins,
rejected events, aggregates and the new offsets in one transaction: killing it at any
point loses nothing and counts nothing twice.

After each batch a Great Expectations gate checks the aggregates (totals agree with
ballots and check-ins, turnout within the registered, counts never go down, counted +
rejected = events read). A failure puts that election's results on **quality hold** on
the results site; each run ends with a Data Docs report (`/data-docs/` on the site).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task


@dag(
    schedule="@continuous",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=10),
    default_args={"retries": 2, "retry_delay": timedelta(seconds=5)},
    tags=["votes", "spark"],
    doc_md=__doc__,
    params={
        "seconds": Param(290, type="number", minimum=1, maximum=540,
                         title="Seconds of micro-batches per run"),
        "drain": Param(False, type="boolean", title="Stop when the topic is drained"),
    },
)
def tally_votes():
    @task
    def run_micro_batches(params=None) -> dict:
        from jobs.tally_votes import run_micro_batches
        from tallyctl import tasks

        resources = tasks.resources()
        votes = resources.votes
        with tasks.spark_session() as spark:
            results = run_micro_batches(
                spark, resources.database_url, votes.bootstrap, votes.name,
                list(votes.partition_ids), seconds=float(params["seconds"]),
                stop_when_idle=params["drain"], quality_dir=resources.data_quality_dir,
                ballot_group=resources.ballot_group, say=tasks.say(),
            )
        return {"batches": len(results), "events": sum(r.events for r in results),
                "counted": sum(r.accepted for r in results)}

    run_micro_batches()


tally_votes()
