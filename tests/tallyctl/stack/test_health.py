"""Health probes against the real session services, and against nothing at all."""

from __future__ import annotations

from tallyctl.stack import health
from tallyflow import db
from tallyflow.settings import Settings


def test_probes_report_the_session_services_healthy(services_env, services_settings):
    assert health.postgres(services_settings).detail.startswith("PostgreSQL 18")
    assert health.kafka(services_settings).detail == (
        f"{services_settings.votes_topic}: {services_settings.votes_partitions} partitions"
    )
    spark = health.spark(services_settings)
    assert spark.is_healthy, spark.detail
    assert spark.detail == "Spark 4.3.0 (Connect)"


def test_probes_report_absent_services_unhealthy_with_a_reason(tmp_path):
    from tests.conftest import free_port, service_env

    port = free_port()
    settings = Settings.from_env(
        {**service_env(tmp_path), "TALLYFLOW_DATABASE_URL": f"postgresql://x:y@127.0.0.1:{port}/db"}
    )

    results = {h.component: h for h in health.check_all(settings)}

    assert not any(h.is_healthy for h in results.values())
    assert "Connection refused" in results["postgres"].detail
    assert results["spark"].detail.startswith("nothing is listening")
    assert results["airflow"].detail.startswith("ConnectionError")
    assert results["site"].detail.startswith("ConnectionError")


def test_check_and_record_stores_the_result(services_env, services_settings, postgres_url):
    result = health.check_and_record("postgres", services_settings)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute(db.query("latest_component_health"))
        latest = {row[0]: row for row in cur.fetchall()}

    assert result.is_healthy
    assert latest["postgres"][2] is True
    assert latest["postgres"][3] == result.detail
