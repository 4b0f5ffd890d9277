"""
### Platform health

Every five minutes, probes the data services Tallyflow depends on (PostgreSQL, the Kafka
broker and its votes topic, the Spark Connect server) and records each result in the
`component_health` table, which the results site shows. A task fails when its component
is unhealthy, so the Airflow UI shows which service is down.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

COMPONENTS = ("postgres", "kafka", "spark")


@dag(
    schedule="*/5 * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=4),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=20)},
    tags=["platform"],
    doc_md=__doc__,
)
def platform_health():
    for component in COMPONENTS:

        @task(task_id=f"check_{component}")
        def check(component: str = component) -> dict:
            from tallyctl.stack.health import check_and_record
            from tallyflow.settings import get_settings

            return check_and_record(component, get_settings()).as_dict()

        check()


platform_health()
