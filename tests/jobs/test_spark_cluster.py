"""The same jobs on a real Spark cluster: a standalone master and worker started from the
pyspark wheel, a Spark Connect server whose jobs run on that worker. The tally and the
recount give there what they give on the local server."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
from confluent_kafka import Producer

from jobs.recount_election import recount
from jobs.spark import session
from jobs.tally_votes import run_micro_batches
from tallyctl.stack import spark as spark_stack
from tallyctl.stack.process import free_port
from tallyflow import db
from tallyflow.settings import Settings
from tallyflow.votes.event import VoteEvent
from tests.conftest import service_env
from tests.jobs.conftest import MAYORS

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster_spark(tmp_path_factory, services_settings) -> Iterator[object]:
    """A Connect session whose jobs run on a standalone cluster of one worker (2 cores)."""
    work = tmp_path_factory.mktemp("spark-cluster")
    java_home = services_settings.java_home()
    master_port, master_ui = free_port(), free_port()
    master_url = f"spark://127.0.0.1:{master_port}"
    master = spark_stack.standalone_master(work / "master", java_home, master_port, master_ui)
    worker = spark_stack.standalone_worker(work / "worker", java_home, master_url, cores=2,
                                           memory="2g", webui_port=free_port())
    settings = Settings.from_env(service_env(work / "connect"))
    server = spark_stack.server(settings, java_home, master=master_url)
    started = []
    try:
        for proc in (master, worker):
            proc.start()
            started.append(proc)
        master.wait_until(lambda: _alive_workers(master_ui) == 1, 90,
                          "registering its worker")
        server.start()
        started.append(server)
        server.wait_until(lambda: _answers(settings.spark_remote), 120, "answering queries")
        spark = session(settings.spark_remote)
        yield spark, master_ui
        spark.stop()
    finally:
        for proc in reversed(started):
            proc.stop()


def _alive_workers(ui_port: int) -> int:
    state = requests.get(f"http://127.0.0.1:{ui_port}/json/", timeout=5).json()
    return sum(1 for w in state.get("workers", []) if w.get("state") == "ALIVE")


def _answers(remote: str) -> bool:
    spark = session(remote)
    try:
        return spark.range(1).count() == 1
    finally:
        spark.stop()


def _cells(url: str, election_id: str) -> dict:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select metric, item, value from recount_cells where election_id = %s",
                    (election_id,))
        return {(metric, item): value for metric, item, value in cur.fetchall()}


def test_the_tally_and_the_recount_on_a_cluster_count_what_the_local_server_counts(
        cluster_spark, spark, postgres_url, kafka_bootstrap, topic, open_election):
    cluster, master_ui = cluster_spark
    election, voters = open_election
    eid = election.election_id
    rng = random.Random(7)
    expected, producer = Counter(), Producer({"bootstrap.servers": kafka_bootstrap,
                                              "linger.ms": 20})
    for _voter, credential, region in voters[:300]:
        mayor = rng.choice(MAYORS)
        expected[mayor] += 1
        event = VoteEvent.ballot(eid, credential, region, {"mayor": [mayor]})
        producer.produce(topic, event.to_json(), key=event.key)
    for _voter, credential, region in voters[:20]:  # second ballots: rejected as duplicates
        event = VoteEvent.ballot(eid, credential, region, {"mayor": [MAYORS[0]]})
        producer.produce(topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0

    run_micro_batches(cluster, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3],
                      seconds=300, stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, sum(votes) from option_totals "
                    "where election_id = %s and contest_id = 'mayor' group by option_id",
                    (eid,))
        counted = {option: int(votes) for option, votes in cur.fetchall()}
        cur.execute("select reason, count(*) from rejected_events where topic = %s "
                    "group by reason", (topic,))
        rejected = dict(cur.fetchall())
    assert counted == {m: n for m, n in expected.items() if n}
    assert rejected == {"duplicate": 20}

    on_cluster = vars(recount(cluster, postgres_url, eid))
    cluster_cells = _cells(postgres_url, eid)
    locally = vars(recount(spark, postgres_url, eid))
    assert {k: v for k, v in on_cluster.items() if k != "seconds"} == \
        {k: v for k, v in locally.items() if k != "seconds"}
    assert cluster_cells == _cells(postgres_url, eid)
    assert on_cluster["ballots"] == 300

    # The work really ran on the cluster: its application ran executors on the worker.
    time.sleep(0.5)
    apps = requests.get(f"http://127.0.0.1:{master_ui}/json/", timeout=5).json()
    assert [a["name"] for a in apps["activeapps"]] == ["tallyflow-connect"]
    assert apps["activeapps"][0]["cores"] > 0
