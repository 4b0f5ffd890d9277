"""platform_health, run for real with dag.test() against the session's services."""

from __future__ import annotations

from tallyflow import db


def test_platform_health_records_every_component_healthy(airflow_db, services_env, postgres_url):
    from airflow.dag_processing.dagbag import DagBag

    from tests.conftest import REPO_ROOT

    dag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "platform_health.py")).dags["platform_health"]

    run = dag.test()

    assert run.state == "success"
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute(db.query("latest_component_health"))
        latest = {component: is_healthy for component, _at, is_healthy, _detail in cur.fetchall()}
    assert latest == {"postgres": True, "kafka": True, "spark": True}
