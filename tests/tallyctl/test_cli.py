"""`tallyflow up` refuses bad configuration with one clear message, before starting anything."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest

from tests.conftest import environ_without, service_env


def _up(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tallyctl", "up"],
        env={**environ_without("TALLYFLOW_"), **env}, capture_output=True, text=True, timeout=60,
    )


def _processes_using(home: Path) -> list[str]:
    found = []
    for proc in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(proc.info["cmdline"] or [])
        if str(home) in cmdline:
            found.append(cmdline)
    return found


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "state"


def _assert_refused(result: subprocess.CompletedProcess, home: Path, setting: str) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    errors = result.stderr.strip().splitlines()
    assert len(errors) == 1, result.stderr
    assert errors[0].startswith(f"tallyflow: configuration error: {setting}")
    assert "Traceback" not in result.stderr
    assert not (home / "run" / "stack.json").exists()
    assert not (home / "postgres").exists()
    assert _processes_using(home) == []


def test_unparseable_database_url(home: Path):
    result = _up({**service_env(home), "TALLYFLOW_DATABASE_URL": "postgres//oops"})

    _assert_refused(result, home, "TALLYFLOW_DATABASE_URL='postgres//oops' is not a PostgreSQL URL")


def test_port_already_in_use(home: Path):
    env = service_env(home)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", int(env["TALLYFLOW_KAFKA_PORT"])))
        busy.listen()
        result = _up(env)

    _assert_refused(
        result, home, f"TALLYFLOW_KAFKA_PORT={env['TALLYFLOW_KAFKA_PORT']}: that port is already in use"
    )


def test_missing_java(home: Path, tmp_path: Path):
    result = _up({**service_env(home), "JAVA_HOME": str(tmp_path / "no-jdk")})

    _assert_refused(result, home, f"JAVA_HOME='{tmp_path / 'no-jdk'}' has no bin/java")


def test_down_with_nothing_running(home: Path):
    result = subprocess.run(
        [sys.executable, "-m", "tallyctl", "down"],
        env={**environ_without("TALLYFLOW_"), "TALLYFLOW_HOME": str(home)}, capture_output=True, text=True, timeout=60,
    )

    assert result.returncode == 0
    assert result.stdout.strip() == f"nothing is running from {home}"


def test_init_prepares_external_services(postgres_url, kafka_bootstrap, tmp_path: Path):
    """With external URLs, `tallyflow init` creates the databases, migrates and creates topics."""
    import uuid

    from tallyflow import db
    from tallyflow.kafka import topic_partitions
    from tallyflow.settings import with_database

    suffix = uuid.uuid4().hex[:8]
    database_url = with_database(postgres_url, f"init_{suffix}")
    env = {
        "TALLYFLOW_HOME": str(tmp_path / "state"),
        "TALLYFLOW_DATABASE_URL": database_url,
        "TALLYFLOW_AIRFLOW_DATABASE_URL": with_database(postgres_url, f"init_airflow_{suffix}"),
        "TALLYFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
        "TALLYFLOW_SPARK_REMOTE": "sc://127.0.0.1:1",
        "TALLYFLOW_VOTES_TOPIC": f"init.votes.{suffix}",
        "TALLYFLOW_VOTES_PARTITIONS": "2",
        # Roles are server-wide: a site role named here is left alone, so the session's
        # tallyflow_site keeps its password for the tests after this one.
        "TALLYFLOW_SITE_DATABASE_URL": with_database(postgres_url, "tallyflow").replace(
            "tallyflow:", "init_reader:", 1),
    }
    result = subprocess.run([sys.executable, "-m", "tallyctl", "init"],
                            env={**environ_without("TALLYFLOW_"), **env},
                            capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    assert f"created database init_{suffix}" in result.stdout
    assert f"created database init_airflow_{suffix}" in result.stdout
    assert topic_partitions(kafka_bootstrap)[f"init.votes.{suffix}"] == 2
    with db.connection(database_url) as conn, conn.cursor() as cur:
        cur.execute("select name from schema_migrations order by version")
        assert cur.fetchall() == [(m.name,) for m in db.migrations()]
