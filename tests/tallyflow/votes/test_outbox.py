"""The casting API's outbox on the real Postgres, broker and tally: a 202 is never lost."""

from __future__ import annotations

import uuid

from jobs.tally_votes import run_micro_batches
from tallyctl.stack.process import free_port
from tallyflow import db
from tallyflow.kafka import read_all
from tallyflow.votes import outbox
from tallyflow.votes.casting import Caster, receipt_status


def _ballot(credential: str, region: str) -> dict:
    return {"event_id": str(uuid.uuid4()), "credential": credential, "region_id": region,
            "contests": [{"contest_id": "mayor", "selections": ["dana-moss"]}]}


def _tally(spark, url, bootstrap, topic) -> None:
    run_micro_batches(spark, url, bootstrap, topic, [0, 1, 2, 3], seconds=120,
                      stop_when_idle=True, say=lambda _m: None)


def _row(url: str, event_id: str) -> dict:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select payload is not null, published_partition, published_offset, "
                    "settled_at is not null from submissions where event_id = %s", (event_id,))
        has_payload, partition, offset, settled = cur.fetchone()
    return {"has_payload": has_payload, "partition": partition, "offset": offset,
            "settled": settled}


def test_a_ballot_the_broker_never_took_is_kept_published_by_the_relay_and_counted(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    _voter, credential, region = voters[0]
    unreachable = Caster(postgres_url, f"127.0.0.1:{free_port()}", topic)
    try:
        answer = unreachable.cast(election.election_id, _ballot(credential, region))
    finally:
        unreachable.close()
    assert answer.status == 202, answer.body
    event_id = answer.body["event_id"]
    assert _row(postgres_url, event_id) == {"has_payload": True, "partition": None,
                                            "offset": None, "settled": False}
    assert read_all(kafka_bootstrap, topic, [0, 1, 2, 3]) == []

    publisher = outbox.Publisher(postgres_url, kafka_bootstrap, topic)
    try:
        relayed = outbox.relay(postgres_url, publisher, grace_seconds=0.0)
    finally:
        publisher.close()
    assert (relayed.published, relayed.unpublished) == (1, 0)
    _tally(spark, postgres_url, kafka_bootstrap, topic)  # its last relay settles the row

    assert receipt_status(postgres_url, answer.body["receipt"]).body["status"] == "counted"
    row = _row(postgres_url, event_id)
    assert row["settled"] and not row["has_payload"]  # the ballot leaves the outbox
    assert outbox.unsettled(postgres_url, election.election_id) == []


def test_a_drain_right_after_a_timed_out_publish_waits_for_the_ballot_and_counts_it(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    # The API answered 202 a moment ago but its publish timed out: the relay leaves the row
    # to the API for a grace period. A drain then must wait, not stop with it pending.
    election, voters = open_election
    _voter, credential, region = voters[3]
    unreachable = Caster(postgres_url, f"127.0.0.1:{free_port()}", topic)
    try:
        answer = unreachable.cast(election.election_id, _ballot(credential, region))
    finally:
        unreachable.close()
    assert answer.status == 202, answer.body

    _tally(spark, postgres_url, kafka_bootstrap, topic)

    assert receipt_status(postgres_url, answer.body["receipt"]).body["status"] == "counted"


def test_a_ballot_the_broker_lost_is_published_again_and_counted_once(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    _voter, credential, region = voters[1]
    caster = Caster(postgres_url, kafka_bootstrap, topic)
    try:
        answer = caster.cast(election.election_id, _ballot(credential, region))
    finally:
        caster.close()
    assert answer.status == 202
    row = _row(postgres_url, answer.body["event_id"])
    assert row["partition"] is not None
    # The tally reads past the event without finding it, as after a broker lost its log.
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("insert into consumer_offsets (topic, partition, next_offset) "
                    "values (%s, %s, %s)", (topic, row["partition"], row["offset"] + 1))
    assert outbox.unsettled(postgres_url, election.election_id)[0]["event_id"] is not None

    _tally(spark, postgres_url, kafka_bootstrap, topic)  # relay: lost -> published again
    _tally(spark, postgres_url, kafka_bootstrap, topic)

    assert receipt_status(postgres_url, answer.body["receipt"]).body["status"] == "counted"
    assert len(read_all(kafka_bootstrap, topic, [0, 1, 2, 3])) == 2
    assert outbox.unsettled(postgres_url, election.election_id) == []
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from checkins where election_id = %s",
                    (election.election_id,))
        assert cur.fetchone() == (1,)


def test_the_api_answers_503_and_publishes_nothing_when_the_database_is_down(
        kafka_bootstrap, topic, open_election):
    election, voters = open_election
    _voter, credential, region = voters[2]
    down = Caster(f"postgresql://tallyflow:x@127.0.0.1:{free_port()}/tallyflow",
                  kafka_bootstrap, topic)
    try:
        answer = down.cast(election.election_id, _ballot(credential, region))
    finally:
        down.close()

    assert answer.status == 503
    assert "retry" in answer.body["title"]
    assert read_all(kafka_bootstrap, topic, [0, 1, 2, 3]) == []


def test_untallied_counts_every_event_past_the_committed_offsets(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    from confluent_kafka import Producer

    from tallyflow.votes.ledger import untallied

    election, voters = open_election
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 50})
    for _voter, credential, _region in voters[10:40]:
        producer.produce(topic, b'{"not": "a ballot"}', key=credential.encode())
    assert producer.flush(30) == 0

    assert untallied(postgres_url, kafka_bootstrap, topic) == 30  # what `down` waits for
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert untallied(postgres_url, kafka_bootstrap, topic) == 0


def test_a_relay_the_broker_does_not_answer_reports_the_ballot_as_still_waiting(
        postgres_url, topic, open_election):
    # A drain stops only when the relay reports nothing waiting. A row whose grace period
    # ran out while the broker did not take it is still waiting, not done.
    election, voters = open_election
    _voter, credential, region = voters[4]
    unreachable = Caster(postgres_url, f"127.0.0.1:{free_port()}", topic)
    try:
        answer = unreachable.cast(election.election_id, _ballot(credential, region))
        relayed = outbox.relay(postgres_url, unreachable.publisher, grace_seconds=0.0,
                               timeout=0.5)
    finally:
        unreachable.close()
    assert answer.status == 202

    assert (relayed.published, relayed.unpublished, relayed.waiting) == (0, 1, 1)
