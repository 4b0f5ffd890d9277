"""kill -9 of PostgreSQL while ballots flow and the tally runs: the test starts, kills and
restarts a copy of its own."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid

import pytest

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.elections.definition import load_definition
from tallyflow.elections.store import create_election
from tallyflow.settings import Settings
from tallyflow.stack import Stack
from tallyflow.stack.process import free_port_env
from tests.conftest import REPO_ROOT, open_for_voting
from tests.faults.flow import BallotFlow, tally_until_settled, verdict
from tests.faults.test_ballots_in_flight import PARTITIONS, _certify, _report

pytestmark = pytest.mark.slow


def _restart(stack: Stack, name: str, ready, what: str) -> None:
    proc = next(p for p in stack.started if p.name == name)
    proc.restart()
    proc.wait_until(ready, 120, what)


def _voters(url: str, eid: str) -> list[tuple[str, str, str]]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s", (eid,))
        return dict(cur.fetchall())


def test_postgres_killed_mid_election_loses_nothing_it_acknowledged(
        spark, kafka_bootstrap, topic, tmp_path):
    settings = Settings.from_env(free_port_env(tmp_path / "own"))
    stack = Stack(settings, say=lambda _m: None)
    try:
        stack.prepare_database(stack.launch_postgres())
        url = settings.database_url
        election = load_definition(REPO_ROOT / "examples" / "elections" /
                                   "general-election.json", opens_at="now",
                                   closes_at="+2h", election_id=f"pg-{uuid.uuid4().hex[:8]}")
        create_election(url, election, actor="test")
        issued = open_for_voting(url, election.election_id, 300, 5, tmp_path)
        regions = _voters(url, election.election_id)
        voters = [(v, c, regions[v]) for v, c in issued]

        flow = BallotFlow(url, kafka_bootstrap, topic, election.election_id, voters[:240],
                          rate=40).start()
        tally = threading.Thread(target=lambda: _tally_ignoring_faults(spark, url,
                                                                     kafka_bootstrap, topic))
        tally.start()
        time.sleep(2.0)
        postgres = next(p for p in stack.started if p.name == "postgres")
        os.kill(postgres.pid, signal.SIGKILL)
        time.sleep(3.0)
        _restart(stack, "postgres", lambda: db.connect(url).close() is None,
                 "accepting connections")
        back = time.monotonic()
        flow.finish()
        tally.join()
        tally_until_settled(spark, url, kafka_bootstrap, topic, PARTITIONS, flow)
        recovered = time.monotonic() - back

        result = verdict(url, flow)
        _report("kill -9 PostgreSQL for 3 s", flow, result, recovered)
        assert flow.refused > 0  # 503s while it was down: nothing promised, nothing kept
        assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
        assert result.totals_match
        assert _certify(spark, url, kafka_bootstrap, topic, PARTITIONS,
                        election.election_id, tmp_path)["certificate_sha256"]
    finally:
        stack.stop()


def _tally_ignoring_faults(spark, url: str, bootstrap: str, topic: str,
                           seconds: float = 12.0) -> None:
    """The tally as Airflow runs it: a run that fails is simply run again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            run_micro_batches(spark, url, bootstrap, topic, PARTITIONS,
                              seconds=deadline - time.monotonic(), say=lambda _m: None)
        except Exception:
            time.sleep(0.5)
