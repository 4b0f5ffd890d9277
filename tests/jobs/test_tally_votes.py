"""The tally end to end on the real broker, Spark and Postgres, against an independent count."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter

from confluent_kafka import Producer

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.votes.event import VoteEvent
from tests.conftest import REPO_ROOT, take_in_through_the_api
from tests.jobs.conftest import MAYORS, PARTITIONS, produce, scenario


def _aggregates(url: str, election_id: str) -> dict:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select contest_id, option_id, region_id, votes from option_region_totals "
                    "where election_id = %s", (election_id,))
        by_region = {(c, o, r): n for c, o, r, n in cur.fetchall() if n}
        cur.execute("select contest_id, option_id, votes from option_totals "
                    "where election_id = %s", (election_id,))
        totals = {(c, o): n for c, o, n in cur.fetchall() if n}
        cur.execute("select reason, events from rejected_totals where election_id = %s",
                    (election_id,))
        rejects = dict(cur.fetchall())
        cur.execute("select region_id, ballots from turnout_by_region where election_id = %s",
                    (election_id,))
        turnout = dict(cur.fetchall())
        cur.execute("select contest_id, ballots, blank_ballots, overvoted_ballots "
                    "from contest_ballot_totals where election_id = %s", (election_id,))
        contests = {c: rest for c, *rest in cur.fetchall()}
        cur.execute("select count(*) from ballots where election_id = %s", (election_id,))
        ballots = cur.fetchone()[0]
        cur.execute("select count(*) from checkins where election_id = %s", (election_id,))
        checkins = cur.fetchone()[0]
    return {"by_region": by_region, "totals": totals, "rejects": rejects, "turnout": turnout,
            "contests": contests, "ballots": ballots, "checkins": checkins}


def _rejected_elsewhere(url: str, topic: str) -> Counter:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select reason, count(*) from rejected_events where topic = %s "
                    "group by reason", (topic,))
        return Counter(dict(cur.fetchall()))


def test_every_aggregate_matches_an_independent_count(
    spark, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    messages, totals, rejects, counted, api = scenario(election, voters, random.Random(4))
    produce(kafka_bootstrap, topic, messages)
    for event, taken_in in api:
        take_in_through_the_api(postgres_url, topic, event, taken_in)

    results = run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                                seconds=120, stop_when_idle=True, say=lambda _m: None)

    found = _aggregates(postgres_url, election.election_id)
    assert sum(r.events for r in results) == len(messages) + len(api)
    assert found["by_region"] == dict(totals)
    option_totals = Counter()
    for (contest, option, _region), n in totals.items():
        option_totals[(contest, option)] += n
    assert found["totals"] == dict(option_totals)
    assert _rejected_elsewhere(postgres_url, topic) == rejects
    assert found["rejects"] == {k: v for k, v in rejects.items()
                                if k not in ("unknown_election", "malformed")}
    assert found["ballots"] == found["checkins"] == len(counted)
    assert found["turnout"] == dict(Counter(region for _voter, region in counted))
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select status, failures from result_quality where election_id = %s",
                    (election.election_id,))
        assert cur.fetchone() == ("ok", [])  # the data-quality gate ran and passed
        cur.execute("select batch_events, batch_duration_ms, consumer_lag, freshness_ms, "
                    "last_batch_at from pipeline_health where topic = %s", (topic,))
        events, duration_ms, lag, freshness_ms, last_batch_at = cur.fetchone()
    assert events == results[-1].events and duration_ms > 0
    assert lag == 0  # drained
    assert 0 < freshness_ms < 120_000 and last_batch_at is not None
    assert found["contests"]["mayor"] == [len(counted), 1, 1]
    assert sum(r.accepted + r.rejected for r in results) == len(messages) + len(api)

    again = run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                              seconds=30, stop_when_idle=True, say=lambda _m: None)

    assert again == []
    assert _aggregates(postgres_url, election.election_id) == found


def test_killing_the_tally_mid_batch_loses_nothing_and_counts_nothing_twice(
    services_env, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    messages, totals, _rejects, counted, _api = scenario(election, voters, random.Random(5))
    produce(kafka_bootstrap, topic, messages)
    # Each ballot counted at once (no groups, see tests/security/test_ballot_groups.py).
    env = {**os.environ, "TALLYFLOW_VOTES_TOPIC": topic, "TALLYFLOW_BALLOT_GROUP": "1"}
    command = [sys.executable, "-m", "jobs.tally_votes", "--drain", "--seconds", "120"]

    doomed = subprocess.Popen(command, env=env, cwd=REPO_ROOT, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    time.sleep(4.0)  # connected to Spark and reading: the batch is under way
    doomed.send_signal(signal.SIGKILL)
    assert doomed.wait(30) == -signal.SIGKILL, "the tally finished before it could be killed"
    finished = subprocess.run(command, env=env, cwd=REPO_ROOT, capture_output=True, text=True,
                              timeout=300)

    assert finished.returncode == 0, finished.stderr[-2000:]
    found = _aggregates(postgres_url, election.election_id)
    assert found["by_region"] == dict(totals)
    assert found["ballots"] == found["checkins"] == len(counted)


def test_a_batch_ends_while_events_keep_arriving(spark, postgres_url, kafka_bootstrap, topic,
                                                 open_election):
    import threading

    election, voters = open_election
    stop = threading.Event()

    def keep_casting() -> None:
        producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5})
        for _voter, credential, region in voters:
            if stop.is_set():
                break
            event = VoteEvent.ballot(election.election_id, credential, region,
                                     {"mayor": [MAYORS[0]]})
            producer.produce(topic, event.to_json(), key=event.key)
            producer.poll(0)
            time.sleep(0.01)
        producer.flush(10)

    caster = threading.Thread(target=keep_casting)
    caster.start()
    try:
        time.sleep(1.0)
        results = run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                                    seconds=8, say=lambda _m: None)
    finally:
        stop.set()
        caster.join()

    assert results, "no batch finished while events were arriving"
    assert all(r.seconds < 60 for r in results)


def test_a_backlog_larger_than_a_batch_drains_in_capped_batches(
    spark, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    events = [VoteEvent.ballot(election.election_id, credential, region,
                               {"mayor": [MAYORS[0]]}) for _v, credential, region in voters[:60]]
    # One produce batch per partition: Tansu's watermark then says each partition ends
    # one event past the batch's first offset, far before its real end.
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in events])

    results = run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                                seconds=120, stop_when_idle=True, max_per_partition=6,
                                say=lambda _m: None)

    assert sum(r.accepted for r in results) == 60
    assert len(results) >= 60 // (6 * len(PARTITIONS))
    assert max(r.events for r in results) <= 6 * len(PARTITIONS)
    assert _aggregates(postgres_url, election.election_id)["checkins"] == 60


def test_ballots_are_judged_by_their_own_time_when_the_election_opens_and_closes_mid_batch(
        spark, postgres_url, kafka_bootstrap, topic, new_election, tmp_path):
    """Opening and closing while batches run: a ballot counts exactly when the broker took
    it between the recorded opening instant and the closing time, whatever state the batch
    that reads it saw when it started."""
    import threading
    from datetime import UTC, datetime

    from confluent_kafka import Consumer, KafkaError, TopicPartition

    from tallyflow.elections import lifecycle
    from tallyflow.elections.lifecycle import close_election
    from tallyflow.registrations.quality import validate_registrations
    from tallyflow.registrations.roll import seed_registrations

    election = new_election("general-election.json")
    eid = election.election_id
    issued: list[tuple[str, str]] = []
    seed_registrations(postgres_url, eid, 500, seed=11, credentials_sink=issued.extend)
    validate_registrations(postgres_url, eid, tmp_path)
    lifecycle.schedule_election(postgres_url, eid)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s", (eid,))
        regions = dict(cur.fetchall())

    def cast_steadily() -> None:
        producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 5})
        for voter, credential in issued:
            event = VoteEvent.ballot(eid, credential, regions[voter], {"mayor": [MAYORS[1]]})
            producer.produce(topic, event.to_json(), key=event.key)
            producer.poll(0)
            time.sleep(0.012)
        producer.flush(10)

    def tally() -> None:
        run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                          seconds=10, say=lambda _m: None)

    threads = [threading.Thread(target=cast_steadily), threading.Thread(target=tally)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    lifecycle.open_election(postgres_url, eid, actor="test")
    time.sleep(2.5)
    close_election(postgres_url, eid, actor="test")
    for thread in threads:
        thread.join()
    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, seconds=60,
                      stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select max(recorded_at) from election_audit_log where election_id = %s "
                    "and action = 'open' and outcome = 'ok'", (eid,))
        (opened_at,) = cur.fetchone()
        cur.execute("select closes_at from elections where election_id = %s", (eid,))
        (closes_at,) = cur.fetchone()
        cur.execute("select count(*) from checkins where election_id = %s", (eid,))
        (counted,) = cur.fetchone()
        cur.execute("select reason, count(*) from rejected_events where election_id = %s "
                    "group by reason", (eid,))
        rejected = dict(cur.fetchall())
    consumer = Consumer({"bootstrap.servers": kafka_bootstrap, "group.id": "judge-test",
                         "enable.partition.eof": True, "log_level": 3})
    consumer.assign([TopicPartition(topic, p, 0) for p in PARTITIONS])
    times, ended = [], set()
    while len(ended) < len(PARTITIONS):
        for message in consumer.consume(1000, timeout=5):
            if message.error():
                assert message.error().code() == KafkaError._PARTITION_EOF
                ended.add(message.partition())
            else:
                times.append(datetime.fromtimestamp(message.timestamp()[1] / 1000, UTC))
    consumer.close()
    expected = Counter("not_open" if t < opened_at else "closed" if t >= closes_at
                       else "counted" for t in times)

    assert len(times) == len(issued)
    assert expected["not_open"] > 0 and expected["counted"] > 0 and expected["closed"] > 0
    assert (counted, rejected) == (expected["counted"],
                                   {"not_open": expected["not_open"],
                                    "closed": expected["closed"]})
