"""docker-compose.yml cannot run here (no Docker engine), so its shape is checked instead."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest
import yaml

from tallyflow.settings import Settings
from tests.conftest import REPO_ROOT

COMPOSE = yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
LONG_RUNNING = [name for name in SERVICES if name != "tallyflow-init"]
USES_TALLYFLOW = ["tallyflow-init", "airflow-api-server", "airflow-scheduler",
                  "airflow-dag-processor", "airflow-triggerer", "site", "spark-connect"]


def _resolved(env: dict) -> dict[str, str]:
    """Environment values with ${VAR:?...} replaced as docker compose would from a .env file."""
    return {k: re.sub(r"\$\{[A-Z_]+(:\?[^}]*)?\}", "x", str(v)) for k, v in env.items()}


@pytest.mark.fast
def test_every_component_the_settings_know_is_a_service():
    assert {"postgres", "kafka", "spark-master", "spark-worker", "spark-connect", "tallyflow-init",
            "airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
            "airflow-triggerer", "site"} <= set(SERVICES)
    assert SERVICES["kafka"]["image"].startswith("apache/kafka:")
    assert "broker,controller" in SERVICES["kafka"]["environment"]["KAFKA_PROCESS_ROLES"]


@pytest.mark.parametrize("name", LONG_RUNNING)
@pytest.mark.fast
def test_long_running_services_have_healthchecks(name):
    assert "healthcheck" in SERVICES[name], name


@pytest.mark.parametrize("name", LONG_RUNNING + ["tallyflow-init"])
@pytest.mark.fast
def test_dependencies_wait_for_health(name):
    for dependency, rule in SERVICES[name].get("depends_on", {}).items():
        expected = ("service_completed_successfully" if dependency == "tallyflow-init"
                    else "service_healthy")
        assert rule["condition"] == expected, f"{name} -> {dependency}"


@pytest.mark.parametrize("name", USES_TALLYFLOW)
@pytest.mark.fast
def test_tallyflow_settings_parse_and_point_at_the_compose_services(name):
    env = _resolved(SERVICES[name]["environment"])
    settings = Settings.from_env(env)

    assert settings.kafka_bootstrap == "kafka:9092"
    assert settings.spark_remote == "sc://spark-connect:15002"
    assert not (settings.embeds_kafka or settings.embeds_spark)
    if name != "spark-connect":  # its Python workers get the tally's URL with each read
        assert urlsplit(settings.database_url).hostname == "postgres"
        assert urlsplit(settings.database_url).port == 5432
        assert not settings.embeds_postgres


# The database role of each service's TALLYFLOW_DATABASE_URL, and of its other URLs.
ROLES = {
    "tallyflow-init": {"TALLYFLOW_DATABASE_URL": "tallyflow",
                       "TALLYFLOW_SITE_DATABASE_URL": "tallyflow_site",
                       "TALLYFLOW_AIRFLOW_DATABASE_URL": "airflow",
                       "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "airflow"},
    **{name: {"TALLYFLOW_DATABASE_URL": "tallyflow_app",
              "TALLYFLOW_AIRFLOW_DATABASE_URL": "airflow",
              "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "airflow"}
       for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor",
                    "airflow-triggerer")},
    "site": {"TALLYFLOW_DATABASE_URL": "tallyflow_casting",
             "TALLYFLOW_SITE_DATABASE_URL": "tallyflow_site"},
    "spark-connect": {},
}


@pytest.mark.parametrize("name", sorted(ROLES))
@pytest.mark.fast
def test_each_service_gets_only_its_own_database_role(name):
    env = _resolved(SERVICES[name]["environment"])
    urls = {key: urlsplit(value).username for key, value in env.items()
            if value.startswith("postgresql")}

    assert urls == ROLES[name]
    # The tables' owner's password is given to the migrations only (and to Postgres).
    assert ("POSTGRES_PASSWORD" in str(SERVICES[name]["environment"])) == (
        name == "tallyflow-init")


@pytest.mark.fast
def test_the_public_site_holds_no_airflow_secret():
    env = SERVICES["site"]["environment"]
    assert [key for key in env if key.upper().startswith("AIRFLOW")] == []
    assert not re.search(r"FERNET|JWT|API_SECRET|ADMIN_PASSWORD|POSTGRES_PASSWORD", str(env))


@pytest.mark.fast
def test_ports_agree_between_services():
    kafka_env = SERVICES["kafka"]["environment"]
    assert kafka_env["KAFKA_ADVERTISED_LISTENERS"] == "PLAINTEXT://kafka:9092"
    assert "spark.connect.grpc.binding.port=15002" in " ".join(SERVICES["spark-connect"]["command"])
    assert "spark://spark-master:7077" in " ".join(SERVICES["spark-worker"]["command"])
    airflow_env = _resolved(SERVICES["airflow-api-server"]["environment"])
    assert airflow_env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == (
        "http://airflow-api-server:8080/execution/"
    )
    assert "8080" in SERVICES["airflow-api-server"]["command"]
    assert SERVICES["airflow-api-server"]["ports"] == ["127.0.0.1:8080:8080"]
    assert SERVICES["site"]["ports"] == [f"127.0.0.1:{airflow_env['TALLYFLOW_SITE_PORT']}:8050"]
    assert airflow_env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"].startswith(
        "postgresql+psycopg2://airflow:x@postgres:5432/airflow"
    )


@pytest.mark.fast
def test_no_secret_is_written_in_the_file():
    text = (REPO_ROOT / "docker-compose.yml").read_text()
    for variable in ("POSTGRES_PASSWORD", "AIRFLOW_FERNET_KEY", "AIRFLOW_JWT_SECRET",
                     "AIRFLOW_API_SECRET_KEY", "SITE_DB_PASSWORD", "APP_DB_PASSWORD",
                     "CASTING_DB_PASSWORD", "AIRFLOW_DB_PASSWORD"):
        assert f"${{{variable}:?set in .env}}" in text
    literal_secrets = re.findall(
        r"^\s*[A-Z_]*(?:PASSWORD|SECRET|SECRET_KEY|FERNET_KEY):\s*(?!\$\{)\S.*$", text, re.MULTILINE
    )
    assert literal_secrets == []
