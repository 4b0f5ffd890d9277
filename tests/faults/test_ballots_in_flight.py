"""Faults while ballots flow from the casting API and a direct producer: nothing promised is
lost or counted twice (docs/reliability.md has the table these tests measure)."""

from __future__ import annotations

import os
import signal
import time

import pytest
from confluent_kafka import Producer

from tallyflow import db
from tallyflow.kafka import ensure_topics
from tallyflow.votes.event import VoteEvent
from tests.faults.flow import (
    PARTITIONS,
    BallotFlow,
    certify_in_a_row,
    report,
    tally_until_settled,
    verdict,
)

pytestmark = pytest.mark.slow


def test_a_broker_stopped_past_the_publish_timeout_loses_and_doubles_nothing(
        spark, postgres_url, own_broker, open_election, tmp_path):
    election, voters = open_election
    stack = own_broker("memory")
    bootstrap, topic = stack.settings.kafka_bootstrap, stack.settings.votes_topic
    broker = next(p for p in stack.started if p.name == "kafka")

    flow = BallotFlow(postgres_url, bootstrap, topic, election.election_id, voters[:240],
                      rate=40).start()
    time.sleep(1.5)
    os.kill(broker.pid, signal.SIGSTOP)
    time.sleep(5.0)  # past the casting API's 2 s publish timeout
    os.kill(broker.pid, signal.SIGCONT)
    resumed = time.monotonic()
    time.sleep(2.0)
    flow.stop()
    tally_until_settled(spark, postgres_url, bootstrap, topic, PARTITIONS, flow)
    recovered = time.monotonic() - resumed

    result = verdict(postgres_url, flow)
    report("SIGSTOP the broker for 5 s", flow, result, recovered)
    assert result.promised > 60 and flow.refused == 0
    assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
    assert result.totals_match
    assert certify_in_a_row(spark, postgres_url, bootstrap, topic, PARTITIONS, election.election_id,
                    tmp_path)["certificate_sha256"]


def test_partitions_the_settings_do_not_name_are_read(
        spark, postgres_url, kafka_bootstrap, open_election, tmp_path):
    """Partitions added to the topic (on Apache Kafka, ``kafka-topics.sh --alter``): the
    embedded broker cannot add partitions (no CreatePartitions, KIP-195), so the topic here
    has six while the tally and certification are told of four, as after an operator grew
    the topic without changing TALLYFLOW_VOTES_PARTITIONS."""
    import uuid

    election, voters = open_election
    topic = f"votes-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, {topic: 6})
    flow = BallotFlow(postgres_url, kafka_bootstrap, topic, election.election_id,
                      voters[:160], rate=80).start()
    flow.finish()
    recovered = tally_until_settled(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                                    flow)

    result = verdict(postgres_url, flow)
    report("partitions the settings do not name", flow, result, recovered)
    assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
    assert result.totals_match
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select partition from consumer_offsets where topic = %s "
                    "and next_offset > 0 order by partition", (topic,))
        assert [row[0] for row in cur.fetchall()] == [0, 1, 2, 3, 4, 5]
    assert certify_in_a_row(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                    election.election_id, tmp_path)["certificate_sha256"]


def test_poison_events_are_rejected_as_malformed_and_the_ballots_after_them_count(
        spark, postgres_url, kafka_bootstrap, topic, open_election, tmp_path):
    election, voters = open_election
    eid = election.election_id
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "log_level": 3,
                         "message.max.bytes": 12_000_000})
    nul = VoteEvent.ballot(eid, voters[0][1], voters[0][2], {"mayor": ["dana-moss"]})
    poison = [
        nul.to_json().replace(eid.encode(), eid.encode()[:3] + b"\\u0000" + eid.encode()[3:]),
        b'{"election_id": "' + b"x" * 10_000_000 + b'"}',
        b'{"election_id": "\xff\xfe", "credential": "\xc3\x28"}',
    ]
    for value in poison:
        producer.produce(topic, value, key=b"poison", partition=0)
    assert producer.flush(30) == 0
    flow = BallotFlow(postgres_url, kafka_bootstrap, topic, eid, voters[1:41], rate=80)
    flow.start().finish()
    tally_until_settled(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, flow)

    result = verdict(postgres_url, flow)
    assert (result.lost, result.duplicated, result.pending_receipts) == (0, 0, 0)
    assert result.totals_match
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select reason, count(*) from rejected_events where topic = %s "
                    "and partition = 0 and kafka_offset < 3 group by reason", (topic,))
        assert dict(cur.fetchall()) == {"malformed": 3}
    assert certify_in_a_row(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, eid,
                    tmp_path)["certificate_sha256"]
