"""Session fixtures: one real PostgreSQL, one Kafka-protocol broker, one Spark Connect server.

They are the same embedded components ``tallyflow up`` runs, on free ports under a temporary
state directory, started once per test run and stopped at the end. If one cannot start, the
tests that need it fail with the component's log; nothing is skipped.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tallyctl.stack.process import free_port, free_port_env

REPO_ROOT = Path(__file__).resolve().parent.parent
_SESSION_DIR = Path(tempfile.mkdtemp(prefix="tallyflow-tests-"))

# Airflow reads its configuration when first imported, so it is set before any test module
# loads. Its metadata for dag.test() lives in SQLite; the DAGs' tasks use the real services.
os.environ.update(
    {
        "AIRFLOW_HOME": str(_SESSION_DIR / "airflow"),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_SESSION_DIR / 'airflow' / 'airflow.db'}",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(_SESSION_DIR / "airflow" / "logs"),
    }
)


def service_env(home: Path) -> dict[str, str]:
    """TALLYFLOW_* variables for an embedded stack under ``home`` on free ports."""
    return {**free_port_env(home), "TALLYFLOW_SPARK_DRIVER_MEMORY": "768m"}


def environ_without(*prefixes: str) -> dict[str, str]:
    """This process's environment minus variables with the given prefixes."""
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return _SESSION_DIR


@pytest.fixture(scope="session")
def services_settings(session_dir: Path):
    """Settings of the session's embedded services (ports chosen once)."""
    from tallyflow.settings import Settings

    return Settings.from_env(service_env(session_dir / "services"))


@pytest.fixture(scope="session")
def _spark_server(services_settings):
    """Starts the Spark Connect server early: its JVM warms up while other fixtures run."""
    from tallyctl.stack import Stack

    stack = Stack(services_settings, say=lambda _message: None)
    proc = stack.launch_spark()
    yield stack, proc
    stack.stop()


@pytest.fixture(scope="session")
def postgres_url(services_settings, _spark_server) -> Iterator[str]:
    """URL of the session's PostgreSQL ``tallyflow`` database, fully migrated."""
    from tallyctl.stack import Stack

    stack = Stack(services_settings, say=lambda _message: None)
    stack.prepare_database(stack.launch_postgres())
    yield services_settings.database_url
    stack.stop()


@pytest.fixture(scope="session")
def kafka_bootstrap(services_settings) -> Iterator[str]:
    """Bootstrap address of the session's broker, with the votes topic created."""
    from tallyctl.stack import Stack

    stack = Stack(services_settings, say=lambda _message: None)
    stack.prepare_broker(stack.launch_kafka())
    yield services_settings.kafka_bootstrap
    stack.stop()


@pytest.fixture(scope="session")
def spark(_spark_server):
    """A Spark Connect session on the session's warm server."""
    stack, proc = _spark_server
    stack.await_spark(proc)
    from jobs.spark import session

    spark_session = session(stack.settings.spark_remote)
    yield spark_session
    spark_session.stop()


@pytest.fixture(scope="session")
def services_env(services_settings, postgres_url, kafka_bootstrap, spark) -> Iterator[dict]:
    """Points this process's TALLYFLOW_* settings at the session's services."""
    from tallyflow.settings import get_settings

    env = {
        "TALLYFLOW_HOME": str(services_settings.home),
        "TALLYFLOW_POSTGRES_PORT": str(services_settings.postgres_port),
        "TALLYFLOW_KAFKA_PORT": str(services_settings.kafka_port),
        "TALLYFLOW_SPARK_PORT": str(services_settings.spark_port),
        # What the code under test reads and writes with, as `tallyflow up` gives Airflow's
        # tasks: the run-time role, not the tables' owner (fixtures set up as the owner).
        "TALLYFLOW_DATABASE_ROLE": "app",
    }
    saved = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    get_settings.cache_clear()
    yield env
    api = sys.modules.get("dash_app.api")  # the site's cached publisher, if a test made one
    if api is not None and api._caster.cache_info().currsize:
        api._caster().close()
        api._caster.cache_clear()
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    get_settings.cache_clear()


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Airflow's SQLite metadata database, for dag.test()."""
    result = subprocess.run(
        [str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, f"airflow db migrate failed:\n{result.stdout}\n{result.stderr}"


@pytest.fixture
def empty_database(postgres_url) -> Iterator[str]:
    """URL of a fresh, empty database on the session's server, dropped afterwards."""
    from psycopg2 import sql

    from tallyflow import db
    from tallyflow.settings import with_database

    name = f"scratch_{os.getpid()}_{free_port()}"
    admin_url = with_database(postgres_url, "postgres")
    with db.connection(admin_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("create database {}").format(sql.Identifier(name)))
    yield with_database(postgres_url, name)
    with db.connection(admin_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("drop database {} with (force)").format(sql.Identifier(name)))


def pytest_sessionfinish(session, exitstatus):
    import shutil

    shutil.rmtree(_SESSION_DIR, ignore_errors=True)


def pytest_sessionstart(session):
    import signal

    # A CI time-out sends SIGTERM: turn it into KeyboardInterrupt so fixtures stop services.
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, interrupt)


@pytest.fixture
def new_election(postgres_url):
    """Creates a draft election from an example definition, with a fresh id, open from now.

    Returns the stored :class:`~tallyflow.elections.definition.Election`.
    """
    import uuid

    from tallyflow.elections.definition import load_definition
    from tallyflow.elections.store import create_election

    def create(example: str = "three-parties.json", *, opens_at: str = "now",
               closes_at: str = "+2h"):
        election = load_definition(
            REPO_ROOT / "examples" / "elections" / example,
            opens_at=opens_at, closes_at=closes_at, election_id=f"t-{uuid.uuid4().hex[:12]}",
        )
        create_election(postgres_url, election, actor="test")
        return election

    return create


def open_for_voting(url: str, election_id: str, voters: int, seed: int,
                    quality_dir: Path) -> list[tuple[str, str]]:
    """Seed a draft election's roll, check it, schedule and open it: [(voter, credential)]."""
    from tallyflow.elections import lifecycle
    from tallyflow.registrations.quality import validate_registrations
    from tallyflow.registrations.roll import seed_registrations

    issued: list[tuple[str, str]] = []
    seed_registrations(url, election_id, voters, seed=seed, credentials_sink=issued.extend)
    validate_registrations(url, election_id, quality_dir)
    lifecycle.schedule_election(url, election_id)
    lifecycle.open_election(url, election_id)
    return issued


def take_in_through_the_api(url: str, topic: str, event, received_at) -> None:
    """Record ``event`` as the casting API does when it takes a ballot in at ``received_at``
    (its outbox row, receipt and all), unpublished: the tally's outbox relay publishes it
    and the tally judges it by ``received_at``, as it would an API ballot whose publishing
    was delayed."""
    import hashlib
    import json

    from tallyflow import db
    from tallyflow.votes.casting import receipt_of

    body = json.loads(event.to_json())
    content = {k: v for k, v in body.items() if k not in ("received_at", "cast_at")}
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("record_submission"), {
            "event_id": event.event_id, "election_id": event.election_id,
            "receipt": receipt_of(event.event_id, body["credential"]),
            "payload_sha256": hashlib.sha256(
                json.dumps(content, sort_keys=True).encode()).hexdigest(),
            "received_at": received_at, "payload": event.to_json(), "topic": topic})


@pytest.fixture
def open_election(postgres_url, new_election, tmp_path):
    """A general election, open now, with 400 voters: (election, [(voter, credential, region)])."""
    from tallyflow import db

    election = new_election("general-election.json")
    issued = open_for_voting(postgres_url, election.election_id, 400, 8, tmp_path)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s",
                    (election.election_id,))
        regions = dict(cur.fetchall())
    return election, [(v, c, regions[v]) for v, c in issued]


@pytest.fixture
def topic(kafka_bootstrap) -> str:
    """A fresh votes topic with 4 partitions."""
    import uuid

    from tallyflow.kafka import ensure_topics

    name = f"votes-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, {name: 4})
    return name


@contextlib.contextmanager
def serve_site(services_env: dict[str, str], **settings: str) -> Iterator[str]:
    """The results site as `tallyflow up` serves it (``python -m dash_app``), on a free port,
    with extra TALLYFLOW_* ``settings``; yields its URL."""
    import time
    import urllib.request

    port = free_port()
    env = {**os.environ, **services_env, "TALLYFLOW_SITE_PORT": str(port),
           "TALLYFLOW_DATABASE_ROLE": "casting", **settings}
    process = subprocess.Popen([sys.executable, "-m", "dash_app"], cwd=REPO_ROOT, env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the site did not start: "
                                       + process.stderr.read().decode()[-2000:]) from None
                time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        process.wait(20)


def ballot_body(credential: str, region: str, **extra) -> dict:
    return {"event_id": str(uuid.uuid4()), "credential": credential, "region_id": region,
            "contests": [{"contest_id": "mayor", "selections": ["dana-moss"]},
                         {"contest_id": "council", "selections": ["hana-ito"]}], **extra}


@pytest.fixture
def open_primary(postgres_url, new_election, tmp_path):
    """The two-ward primary example (district contests and two party primaries), open now,
    with 300 voters: (election, [(voter, credential, region, party)])."""
    from tallyflow import db

    election = new_election("two-ward-primary.json")
    issued = open_for_voting(postgres_url, election.election_id, 300, 9, tmp_path)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id, party_id from voters where election_id = %s",
                    (election.election_id,))
        styles = {voter: (region, party) for voter, region, party in cur.fetchall()}
    return election, [(v, c, *styles[v]) for v, c in issued]
