"""
### Open elections

Every minute, opens each scheduled election whose opening time has come. Opening freezes
the voter roll: its SHA-256 fingerprint is stored and later shown on the results site and in
the certificate.

An election whose registrations are missing, unvalidated, changed since their last check,
or whose latest check failed stays scheduled; the task fails and its log says why, so the
run shows red in the grid until the roll is fixed.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task


@dag(
    schedule="* * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=5),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=10)},
    tags=["elections"],
    doc_md=__doc__,
)
def open_elections():
    @task
    def open_due_elections() -> list[dict]:
        import logging

        from tallyflow.elections.lifecycle import open_due_elections
        from tallyflow.settings import get_settings

        log = logging.getLogger(__name__)
        outcomes = open_due_elections(get_settings().database_url, actor="airflow")
        for outcome in outcomes:
            log.info("%s: %s", outcome.election_id, outcome.detail)
        refused = [o.detail for o in outcomes if not o.is_opened]
        if refused:
            raise ValueError("\n".join(refused))
        return [vars(o) for o in outcomes]

    open_due_elections()


open_elections()
