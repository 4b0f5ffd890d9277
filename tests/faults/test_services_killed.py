"""kill -9 of PostgreSQL, of the Spark Connect server and of the tally itself while ballots
flow: each test starts, kills and restarts a copy of its own."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
import uuid

import pytest

from jobs.spark import abandon, session
from jobs.tally_votes import run_micro_batches
from tallyctl.stack import Stack
from tallyctl.stack.process import free_port_env
from tallyflow import db
from tallyflow.elections.definition import load_definition
from tallyflow.elections.store import create_election
from tallyflow.settings import Settings
from tests.conftest import REPO_ROOT, open_for_voting
from tests.faults.flow import (
    PARTITIONS,
    BallotFlow,
    certify_in_a_row,
    report,
    tally_until_settled,
    verdict,
)
from tests.security.linkage import K, assert_groups_of_k

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
        # Counted in groups of k, as the platform counts: what waits is in PostgreSQL too.
        tally = threading.Thread(target=lambda: _tally_ignoring_faults(
            spark, url, kafka_bootstrap, topic, ballot_group=K))
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
        tally_until_settled(spark, url, kafka_bootstrap, topic, PARTITIONS, flow,
                            ballot_group=K)
        recovered = time.monotonic() - back
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute("select count(*) from held_ballots")
            assert 0 < cur.fetchone()[0] <= (2 * K - 1) * 4  # 4 precincts

        # Certification counts the last groups: nothing acknowledged is lost, no set < k.
        assert certify_in_a_row(spark, url, kafka_bootstrap, topic, PARTITIONS,
                                election.election_id, tmp_path)["certificate_sha256"]
        result = verdict(url, flow)
        report("kill -9 PostgreSQL for 3 s", flow, result, recovered)
        assert flow.refused > 0  # 503s while it was down: nothing promised, nothing kept
        assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
        assert result.totals_match
        assert_groups_of_k(url, election.election_id, K)
    finally:
        stack.stop()


def _tally_ignoring_faults(spark, url: str, bootstrap: str, topic: str,
                           seconds: float = 12.0, ballot_group: int = 1) -> None:
    """The tally as Airflow runs it: a run that fails is simply run again."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            run_micro_batches(spark, url, bootstrap, topic, PARTITIONS,
                              seconds=deadline - time.monotonic(), ballot_group=ballot_group,
                              say=lambda _m: None)
        except Exception:
            time.sleep(0.5)


def test_spark_connect_killed_mid_election_loses_nothing(
        spark, postgres_url, kafka_bootstrap, topic, open_election, tmp_path):
    election, voters = open_election
    eid = election.election_id
    settings = Settings.from_env(free_port_env(tmp_path / "own"))
    stack = Stack(settings, say=lambda _m: None)
    try:
        server = stack.launch_spark()
        stack.await_spark(server)
        before = session(settings.spark_remote)
        flow = BallotFlow(postgres_url, kafka_bootstrap, topic, eid, voters[:240],
                          rate=40).start()
        tally = threading.Thread(target=lambda: _tally_ignoring_faults(
            before, postgres_url, kafka_bootstrap, topic, seconds=10.0))
        tally.start()
        time.sleep(3.0)
        os.kill(server.pid, signal.SIGKILL)
        server.popen.wait(timeout=10)
        time.sleep(2.0)
        _restart(stack, "spark", lambda: True, "started")
        stack.await_spark(server)
        back = time.monotonic()
        flow.finish()
        tally.join(timeout=180)
        assert not tally.is_alive(), "the tally on the killed server's session never returned"
        abandon(before)
        # The next run (Airflow's next try) opens a session on the restarted server.
        after = session(settings.spark_remote)
        try:
            tally_until_settled(after, postgres_url, kafka_bootstrap, topic, PARTITIONS, flow)
        finally:
            after.stop()
        recovered = time.monotonic() - back

        result = verdict(postgres_url, flow)
        report("kill -9 Spark Connect", flow, result, recovered)
        assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
        assert result.totals_match
        assert certify_in_a_row(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, eid,
                        tmp_path)["certificate_sha256"]
    finally:
        stack.stop()


def test_the_tally_killed_mid_batch_commits_nothing_twice(
        spark, postgres_url, kafka_bootstrap, topic, open_election, services_env, tmp_path):
    from tests.conftest import REPO_ROOT as root

    election, voters = open_election
    eid = election.election_id
    env = {**os.environ, **services_env, "TALLYFLOW_VOTES_TOPIC": topic}
    # The tally as Airflow's task runs it, in a process of its own.
    task = subprocess.Popen([sys.executable, "-m", "jobs.tally_votes", "--seconds", "120"],
                            cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    flow = BallotFlow(postgres_url, kafka_bootstrap, topic, eid, voters[:360], rate=30).start()
    killed_after = None
    try:
        for line in task.stdout:
            if line.startswith("batch:"):
                # Batches run back to back while ballots arrive: the next one is under way.
                time.sleep(0.4)
                killed_after = line.strip()
                break
        assert flow._thread.is_alive(), "ballots stopped flowing before the kill"
        os.killpg(task.pid, signal.SIGKILL)
        task.wait(timeout=30)
    finally:
        if task.poll() is None:
            os.killpg(task.pid, signal.SIGKILL)
    assert killed_after is not None, "the tally never finished a batch"
    back = time.monotonic()
    flow.finish()
    # The task counted in groups of k (the platform's default): so does the rest.
    tally_until_settled(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, flow,
                        ballot_group=K)
    recovered = time.monotonic() - back
    assert certify_in_a_row(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, eid,
                            tmp_path)["certificate_sha256"]

    result = verdict(postgres_url, flow)
    report("kill -9 the tally mid-batch", flow, result, recovered)
    assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
    assert result.totals_match
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select coalesce(sum(consumed_before + next_offset), 0) "
                    "from consumer_offsets where topic = %s", (topic,))
        (consumed,) = cur.fetchone()
        cur.execute("select (select count(*) from checkins where election_id = %(e)s) + "
                    "(select count(*) from rejected_events where topic = %(t)s)",
                    {"e": eid, "t": topic})
        (seen,) = cur.fetchone()
    assert consumed == seen  # counted + rejected = consumed: no batch half-committed
    assert_groups_of_k(postgres_url, eid, K)
