"""Health probes for each platform component, embedded or external."""

from __future__ import annotations

from dataclasses import asdict, dataclass

import requests

from tallyflow.settings import Settings, SettingsError, redact


@dataclass(frozen=True)
class Health:
    component: str
    address: str
    is_healthy: bool
    detail: str

    def as_dict(self) -> dict:
        return asdict(self)


def postgres(settings: Settings) -> Health:
    try:
        url = settings.database_url
    except SettingsError as err:
        return Health("postgres", "-", False, str(err))
    from tallyflow import db

    try:
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute(db.query("server_version"))
            (version,) = cur.fetchone()
        return Health("postgres", redact(url), True, f"PostgreSQL {version}")
    except Exception as err:
        return Health("postgres", redact(url), False, _first_line(err))


def kafka(settings: Settings) -> Health:
    from tallyflow.kafka import topic_partitions

    try:
        topics = topic_partitions(settings.kafka_bootstrap, timeout=3.0)
    except Exception as err:
        return Health("kafka", settings.kafka_bootstrap, False, _first_line(err))
    partitions = topics.get(settings.votes_topic)
    if partitions is None:
        return Health("kafka", settings.kafka_bootstrap, False,
                      f"broker answers but topic {settings.votes_topic} is missing")
    return Health("kafka", settings.kafka_bootstrap, True,
                  f"{settings.votes_topic}: {partitions} partitions")


def spark(settings: Settings) -> Health:
    from urllib.parse import urlsplit

    from tallyctl.stack.process import port_is_open

    remote = urlsplit(settings.spark_remote)
    # The Connect client retries for minutes against a closed port; answer at once instead.
    if not port_is_open(remote.port, remote.hostname, timeout=2.0):
        return Health("spark", settings.spark_remote, False,
                      f"nothing is listening on {remote.hostname}:{remote.port}")
    from pyspark.sql import SparkSession

    try:
        # A session of its own, so stopping it leaves any session the caller holds alone.
        spark_session = SparkSession.builder.remote(settings.spark_remote).create()
    except Exception as err:
        return Health("spark", settings.spark_remote, False, _first_line(err))
    try:
        rows = spark_session.range(3).count()
        return Health("spark", settings.spark_remote, rows == 3,
                      f"Spark {spark_session.version} (Connect)")
    except Exception as err:
        return Health("spark", settings.spark_remote, False, _first_line(err))
    finally:
        spark_session.stop()


def airflow(settings: Settings) -> Health:
    url = settings.airflow_url
    try:
        response = requests.get(f"{url}/api/v2/monitor/health", timeout=3)
        response.raise_for_status()
        report = response.json()
    except Exception as err:
        return Health("airflow", url, False, _first_line(err))
    states = {part: info.get("status") for part, info in report.items()}
    unhealthy = sorted(part for part, state in states.items() if state != "healthy")
    if unhealthy:
        return Health("airflow", url, False, "not healthy: " + ", ".join(unhealthy))
    return Health("airflow", url, True, "healthy: " + ", ".join(sorted(states)))


def site(settings: Settings) -> Health:
    url = settings.site_url
    try:
        response = requests.get(f"{url}/healthz", timeout=3)
        return Health("site", url, response.status_code == 200, f"HTTP {response.status_code}")
    except Exception as err:
        return Health("site", url, False, _first_line(err))


PROBES = {
    "postgres": postgres,
    "kafka": kafka,
    "spark": spark,
    "airflow": airflow,
    "site": site,
}


def check_all(settings: Settings) -> list[Health]:
    return [probe(settings) for probe in PROBES.values()]


def _first_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0] if text else ''}".strip()


def record(settings: Settings, result: Health) -> None:
    """Store one probe result in component_health, for the site and for operators."""
    from tallyflow import db

    with db.connection(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute(
            db.query("record_component_health"),
            {"component": result.component, "is_healthy": result.is_healthy,
             "detail": result.detail},
        )


def check_and_record(component: str, settings: Settings) -> Health:
    """Probe one component, record the result, and raise if it is unhealthy."""
    result = PROBES[component](settings)
    record(settings, result)
    if not result.is_healthy:
        raise RuntimeError(f"{component} at {result.address} is unhealthy: {result.detail}")
    return result
