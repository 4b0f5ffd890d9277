"""The in-memory broker restarted mid-election (kill -9, or down/up): the tally re-bases
onto the new log instead of skipping it, every receipted ballot is published again and
counted, and certification reconciles every epoch."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from jobs.certify_election import Services, certify_election
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.elections.lifecycle import close_election
from tallyflow.votes import held
from tallyflow.votes.casting import Caster, receipt_status
from tallyflow.votes.event import VoteEvent
from tests.faults.conftest import kill_and_restart
from tests.security.linkage import K, assert_groups_of_k

pytestmark = pytest.mark.slow


def _direct(bootstrap: str, topic: str, eid: str, voters) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": 20, "log_level": 3})
    for _voter, credential, region in voters:
        event = VoteEvent.ballot(eid, credential, region, {"mayor": ["dana-moss"]})
        producer.produce(topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0


def _cast(caster: Caster, eid: str, voters) -> list[str]:
    receipts = []
    for _voter, credential, region in voters:
        answer = caster.cast(eid, {"credential": credential, "region_id": region, "contests": [
            {"contest_id": "mayor", "selections": ["eli-brandt"]}]})
        assert answer.status == 202, answer.body
        receipts.append(answer.body["receipt"])
    return receipts


def test_a_restarted_in_memory_broker_loses_no_receipted_ballot_and_certification_balances(
        spark, postgres_url, own_broker, open_election, tmp_path):
    election, voters = open_election
    eid = election.election_id
    stack = own_broker("memory")
    bootstrap, topic = stack.settings.kafka_bootstrap, stack.settings.votes_topic
    partitions = stack.settings.votes_partition_ids
    said: list[str] = []

    def tally() -> None:
        run_micro_batches(spark, postgres_url, bootstrap, topic, partitions, seconds=120,
                          stop_when_idle=True, say=said.append)

    caster = Caster(postgres_url, bootstrap, topic)
    try:
        _direct(bootstrap, topic, eid, voters[0:100])
        receipts = _cast(caster, eid, voters[100:120])
        tally()
        # In flight when the broker dies: acknowledged, not tallied.
        _direct(bootstrap, topic, eid, voters[120:170])
        receipts += _cast(caster, eid, voters[170:190])
        kill_and_restart(stack, "kafka")
        _direct(bootstrap, topic, eid, voters[190:220])
        receipts += _cast(caster, eid, voters[220:230])
        tally()
    finally:
        caster.close()

    assert any("the topic was created again" in line for line in said), said
    assert {receipt_status(postgres_url, r).body["status"] for r in receipts} == {"counted"}
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s "
                    "and contest_id = 'mayor'", (eid,))
        totals = dict(cur.fetchall())
        cur.execute("select count(*) from log_resets where topic = %s", (topic,))
        (resets,) = cur.fetchone()
    # Every receipted ballot (50) and every direct event the live broker holds (130); the 50
    # direct events acknowledged only by the lost in-memory log are what memory mode loses.
    assert totals == {"dana-moss": 130, "eli-brandt": 50}
    assert resets == len(partitions)

    certified = certify_election(Services(
        postgres_url, bootstrap, topic, partitions, spark, quality_dir=tmp_path / "gx",
        certificates_dir=tmp_path / "certificates", say=said.append), eid, actor="test")
    assert certified["certificate_sha256"]


def test_ballots_waiting_for_their_group_survive_kill_9_of_the_broker(
        spark, postgres_url, own_broker, open_election, tmp_path):
    """Ballots waiting for their group live in PostgreSQL: the in-memory broker's log lost
    with kill -9 takes none of them, nothing is counted in a set under k, and every receipt
    resolves once the election closes."""
    election, voters = open_election
    eid = election.election_id
    stack = own_broker("memory")
    bootstrap, topic = stack.settings.kafka_bootstrap, stack.settings.votes_topic
    partitions = stack.settings.votes_partition_ids
    by_region: dict[str, list] = {}
    for voter in voters:
        by_region.setdefault(voter[2], []).append(voter)
    quiet, busy = sorted(by_region, key=lambda r: len(by_region[r]))[:2]
    said: list[str] = []

    def tally() -> None:
        run_micro_batches(spark, postgres_url, bootstrap, topic, partitions, seconds=120,
                          stop_when_idle=True, ballot_group=K, say=said.append)

    caster = Caster(postgres_url, bootstrap, topic)
    try:
        receipts = _cast(caster, eid, by_region[quiet][:3])
        _direct(bootstrap, topic, eid, by_region[busy][:20])
        tally()
        assert {receipt_status(postgres_url, r).body["status"] for r in receipts} == \
            {"waiting"}
        assert held.waiting(postgres_url, eid) == 3 + K  # the busy precinct keeps k back

        kill_and_restart(stack, "kafka")  # the log, and nothing else, is gone
        receipts += _cast(caster, eid, by_region[quiet][3:5])
        _direct(bootstrap, topic, eid, by_region[busy][20:24])
        tally()
    finally:
        caster.close()
    assert any("the topic was created again" in line for line in said), said
    assert held.waiting(postgres_url, eid) == 5 + K + 4  # 5 quiet, 9 busy: none lost

    close_election(postgres_url, eid, actor="test")
    tally()
    assert {receipt_status(postgres_url, r).body["status"] for r in receipts} == {"counted"}
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s "
                    "and contest_id = 'mayor' and votes > 0 order by 1", (eid,))
        assert cur.fetchall() == [("dana-moss", 24), ("eli-brandt", 5)]
    assert held.waiting(postgres_url, eid) == 0
    assert_groups_of_k(postgres_url, eid)
