"""The whole platform as a user runs it: `tallyflow up`, use it, `tallyflow down`, nothing left."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest
import requests

from tallyflow import db
from tallyflow.kafka import topic_partitions
from tallyflow.settings import Settings
from tests.conftest import environ_without, service_env

pytestmark = pytest.mark.slow


class Platform:
    """`tallyflow up` in a subprocess, with its output collected as it arrives."""

    def __init__(self, env: dict[str, str], *args: str):
        self.env = env
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tallyctl", "up", *args],
            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_until_up(self, timeout: float = 300) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(line.startswith("Everything is up") for line in self.lines):
                return
            if self.proc.poll() is not None:
                break
            time.sleep(0.5)
        self.proc.kill()
        pytest.fail(f"tallyflow up did not come up:\n{self.output}")

    def descendants(self) -> list[psutil.Process]:
        return psutil.Process(self.proc.pid).children(recursive=True)


def _cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tallyctl", *args], env=env,
                          capture_output=True, text=True, timeout=180)


def _survivors(procs: list[psutil.Process]) -> list[str]:
    alive = []
    for proc in procs:
        try:
            if proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE:
                alive.append(" ".join(proc.cmdline()))
        except psutil.NoSuchProcess:
            continue
    return alive


def _listeners(procs: list[psutil.Process]) -> set[tuple[str, int, str]]:
    """(address, port, process) of every listening TCP socket of ``procs``."""
    found = set()
    for proc in procs:
        try:
            connections = proc.net_connections(kind="inet")
            name = " ".join(proc.cmdline())[:80]
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        found |= {(c.laddr.ip, c.laddr.port, name) for c in connections
                  if c.status == psutil.CONN_LISTEN}
    return found


def _open_smoke_election(settings: Settings) -> list[tuple[str, str, str]]:
    """The "smoke" election, open, with 50 voters: [(voter, credential, region)]."""
    from tallyflow.elections import lifecycle, store
    from tallyflow.elections.definition import load_definition
    from tallyflow.registrations.quality import validate_registrations
    from tallyflow.registrations.roll import seed_registrations
    from tests.conftest import REPO_ROOT

    url = settings.database_url
    election = load_definition(REPO_ROOT / "examples" / "elections" / "three-parties.json",
                               opens_at="now", closes_at="+1h", election_id="smoke")
    store.create_election(url, election)
    issued: list[tuple[str, str]] = []
    seed_registrations(url, "smoke", 50, seed=3, credentials_sink=issued.extend)
    validate_registrations(url, "smoke", settings.data_quality_dir)
    lifecycle.schedule_election(url, "smoke")
    lifecycle.open_election(url, "smoke")
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = 'smoke'")
        regions = dict(cur.fetchall())
    return [(voter, credential, regions[voter]) for voter, credential in issued]


def _produce(settings: Settings, voters) -> None:
    """Ballots for ada-okafor straight to the platform's broker, as the simulator sends them."""
    from confluent_kafka import Producer

    from tallyflow.votes.event import VoteEvent

    producer = Producer({"bootstrap.servers": settings.kafka_bootstrap, "log_level": 3})
    for _voter, credential, region in voters:
        event = VoteEvent.ballot("smoke", credential, region, {"president": ["ada-okafor"]})
        producer.produce(settings.votes_topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0


def _ada_okafor(settings: Settings) -> int:
    with db.connection(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("select votes from option_totals where election_id = 'smoke' "
                    "and option_id = 'ada-okafor'")
        row = cur.fetchone()
    return row[0] if row else 0


def _cast_and_await(settings: Settings, api_voters, direct_voters, total: int) -> None:
    """Ballots for ada-okafor through the platform's HTTP API and straight to its broker,
    counted by the tally_votes DAG as the Airflow scheduler runs it (not dag.test) until
    she has ``total`` votes; every receipt then says counted."""
    receipts = []
    for _voter, credential, region in api_voters:
        answer = requests.post(
            f"{settings.site_url}/api/v1/elections/smoke/ballots", timeout=30,
            json={"credential": credential, "region_id": region,
                  "contests": [{"contest_id": "president", "selections": ["ada-okafor"]}]})
        assert answer.status_code == 202, answer.text
        receipts.append(answer.json()["receipt"])
    _produce(settings, direct_voters)

    deadline, counted = time.monotonic() + 240, None
    while time.monotonic() < deadline:
        counted = _ada_okafor(settings)
        if counted == total:
            break
        time.sleep(2)
    assert counted == total, f"the scheduled tally did not reach {total} in 4 minutes"
    assert {requests.get(f"{settings.site_url}/api/v1/receipts/{r}", timeout=10)
            .json()["status"] for r in receipts} == {"counted"}


def _ballots_are_counted_by_the_scheduled_tally(settings: Settings, env: dict[str, str],
                                               voters) -> None:
    _cast_and_await(settings, voters[:20], [], 20)
    status = json.loads(_cli(env, "status", "--json").stdout)
    assert status["pipeline"]["batch_events"] >= 1 and status["pipeline"]["consumer_lag"] == 0
    # What a stop of the in-memory broker would lose now: nothing, the tally has caught up.
    assert status["at_risk"]["broker_log"] == "memory"
    assert status["at_risk"]["untallied_events"] == 0
    # The runs that counted them were made by the scheduler, not by a test harness.
    with db.connection(settings.airflow_database_url) as conn, conn.cursor() as cur:
        cur.execute("select distinct run_type from dag_run where dag_id = 'tally_votes'")
        assert cur.fetchall() == [("scheduled",)]


@pytest.fixture
def env(tmp_path: Path):
    # Each ballot counted at once: this test waits for exact counts while voting goes on.
    # Counting in groups is tested in tests/security/test_ballot_groups.py and, through
    # the tally_votes DAG, in tests/dags/test_election_dags.py.
    env = {**environ_without("TALLYFLOW_", "AIRFLOW"), **service_env(tmp_path / "state"),
           "TALLYFLOW_BALLOT_GROUP": "1"}
    yield env
    _cli(env, "down")  # whatever a failed assertion left running


def test_up_status_down_then_up_again_reuses_the_data(env: dict[str, str]):
    settings = Settings.from_env(env)

    platform = Platform(env)
    platform.wait_until_up()
    children = platform.descendants()
    assert {"postgres", "kafka", "spark", "airflow-api-server", "airflow-scheduler",
            "airflow-dag-processor", "airflow-triggerer", "site"} <= set(
        json.loads((settings.run_dir / "stack.json").read_text())["components"])
    # The admin password stays in the secrets file: `up` says where, never what.
    password_file = settings.secrets_dir / "airflow-admin-password"
    assert f"login admin, password in {password_file}" in platform.output
    assert password_file.read_text().strip() not in platform.output
    # Every process of the platform listens on the loopback interface only.
    listeners = _listeners(children)
    assert listeners
    assert {(ip, port, name) for ip, port, name in listeners
            if ip not in ("127.0.0.1", "::1", "::ffff:127.0.0.1")} == set()

    airflow_health = requests.get(f"{settings.airflow_url}/api/v2/monitor/health", timeout=10).json()
    assert {part: info["status"] for part, info in airflow_health.items()} == {
        "metadatabase": "healthy", "scheduler": "healthy",
        "triggerer": "healthy", "dag_processor": "healthy",
    }
    # The public site holds nothing of Airflow's: no secret, no database URL.
    site_pid = json.loads((settings.run_dir / "stack.json").read_text())[
        "components"]["site"]["pid"]
    assert not [key for key in psutil.Process(site_pid).environ()
                if key.upper().startswith("AIRFLOW")]
    page = requests.get(settings.site_url, timeout=10)
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["Server"] == "gunicorn"
    layout = requests.get(f"{settings.site_url}/_dash-layout", timeout=10)
    assert page.status_code == 200 and "<title>Tallyflow</title>" in page.text
    assert '"children":"Home"' in layout.text
    assert topic_partitions(settings.kafka_bootstrap)[settings.votes_topic] == 4

    status = _cli(env, "status", "--json")
    report = json.loads(status.stdout)
    assert status.returncode == 0, status.stdout + status.stderr
    assert report["healthy"] is True
    assert report["supervisor_pid"] == platform.proc.pid
    assert {r["restarts"] for r in report["restarts"].values()} == {0}

    voters = _open_smoke_election(settings)
    _ballots_are_counted_by_the_scheduled_tally(settings, env, voters)

    # A crashed scheduler is restarted, and counting goes on (its orphaned task is failed
    # after the one-minute heartbeat timeout and the next run takes over).
    scheduler = json.loads((settings.run_dir / "stack.json").read_text())[
        "components"]["airflow-scheduler"]["pid"]
    psutil.Process(scheduler).kill()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and json.loads(_cli(env, "status", "--json").stdout)[
            "restarts"]["airflow-scheduler"]["restarts"] < 1:
        time.sleep(2)
    _cast_and_await(settings, voters[20:25], voters[25:30], 30)
    assert json.loads(_cli(env, "status", "--json").stdout)[
        "restarts"]["airflow-scheduler"]["restarts"] == 1

    with db.connection(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute(db.query("record_component_health"),
                    {"component": "smoke-test", "is_healthy": True, "detail": "kept across restarts"})

    # Ctrl-C with ballots in flight in the in-memory broker: it waits for the tally first.
    children = platform.descendants()
    _produce(settings, voters[30:40])
    platform.proc.send_signal(signal.SIGINT)
    assert platform.proc.wait(timeout=240) == 0
    assert "SIGINT: stopping the platform" in platform.output
    assert "the tally has counted or rejected every event in the broker" in platform.output
    assert _survivors(children) == []
    assert not (settings.run_dir / "stack.json").exists()
    assert _cli(env, "status").returncode == 1

    # Second start: same data, with the demo casting; `tallyflow down` stops the demo's
    # simulator, waits for the tally and stops.
    again = Platform(env, "--demo")
    again.wait_until_up(timeout=480)
    children = again.descendants()
    assert "0 migration(s) applied" in again.output
    assert "demo: casting" in again.output
    with db.connection(settings.database_url) as conn, conn.cursor() as cur:
        cur.execute("select detail from component_health where component = 'smoke-test'")
        assert cur.fetchall() == [("kept across restarts",)]
    assert _ada_okafor(settings) == 40  # the ballots in flight at Ctrl-C were counted
    # The broker came back with an empty log: ballots cast now are counted all the same
    # (the tally re-bases onto the new log instead of waiting for its old offsets).
    _cast_and_await(settings, voters[40:45], voters[45:50], 50)
    status = json.loads(_cli(env, "status", "--json").stdout)
    assert status["pipeline"]["log_resets"] >= 1

    down = _cli(env, "down")
    assert down.returncode == 0, down.stdout + down.stderr
    assert "the tally has counted or rejected every event in the broker" in down.stdout
    # Ballots waiting for their group are in PostgreSQL: `down` counts none of them early.
    assert "smaller groups" not in down.stdout
    assert again.proc.wait(timeout=60) == 0
    assert "(stopped for shutdown)" in again.output
    assert _survivors(children) == []
    assert not (settings.run_dir / "stack.json").exists()
