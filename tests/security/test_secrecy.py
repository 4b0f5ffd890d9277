"""A rejected event is kept without its selections next to who cast it."""

from __future__ import annotations

import hashlib
import json

import pytest
from confluent_kafka import Producer

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.votes.event import VoteEvent
from tallyflow.votes.secrecy import kept_payload

CREDENTIAL = "0123456789abcdef0123456789abcdef"


@pytest.mark.fast
def test_a_rejected_ballot_keeps_the_credentials_hash_and_no_selections():
    event = VoteEvent.ballot("e-1", CREDENTIAL, "north-1", {"mayor": ["dana-moss"]})

    kept = json.loads(kept_payload(event.to_json()))

    assert kept["credential_sha256"] == hashlib.sha256(CREDENTIAL.encode()).hexdigest()
    assert "credential" not in kept and "dana-moss" not in json.dumps(kept)
    assert kept["contests"].startswith("[removed")
    assert (kept["event_id"], kept["election_id"], kept["region_id"]) == (
        event.event_id, "e-1", "north-1")


@pytest.mark.fast
@pytest.mark.parametrize("raw", [
    b'{"credential": "0123456789abcdef0123456789abcdef", "contests": [oops',
    b"0123456789ABCDEF0123456789ABCDEF dana-moss",
    b'["0123456789abcdef0123456789abcdef", "dana-moss"]',
])
def test_a_malformed_message_keeps_no_credential(raw):
    kept = kept_payload(raw)
    assert CREDENTIAL.encode() not in kept.lower() and b"[credential removed]" in kept


@pytest.mark.fast
def test_a_credential_under_another_name_is_removed_too():
    raw = json.dumps({"voter": CREDENTIAL, "credential": 42}).encode()
    kept = json.loads(kept_payload(raw))
    assert kept == {"voter": "[credential removed]", "credential": "[removed]"}


def test_the_tally_keeps_rejected_ballots_without_their_selections(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    eid = election.election_id
    _voter, credential, region = voters[0]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    for mayor in ("dana-moss", "eli-brandt", "nobody-at-all"):  # counted, duplicate, unknown
        event = VoteEvent.ballot(eid, credential, region, {"mayor": [mayor]})
        producer.produce(topic, event.to_json(), key=event.key)
    producer.produce(topic, f'{{"credential": "{credential}", "mayor": "eli-brandt"'.encode())
    assert producer.flush(30) == 0

    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], seconds=60,
                      stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select reason, raw_payload from rejected_events where topic = %s "
                    "order by reason", (topic,))
        kept = [(reason, bytes(raw)) for reason, raw in cur.fetchall()]
    assert [reason for reason, _raw in kept] == ["duplicate", "malformed", "unknown_option"]
    for _reason, raw in kept:
        assert credential.encode() not in raw
    duplicates = [json.loads(raw) for reason, raw in kept if reason != "malformed"]
    assert {d["credential_sha256"] for d in duplicates} == {
        hashlib.sha256(credential.encode()).hexdigest()}
    assert not [d for d in duplicates if "eli-brandt" in json.dumps(d)
                or "nobody-at-all" in json.dumps(d)]


def test_rejected_events_kept_before_are_redacted_by_the_migration(postgres_url, topic):

    ballot = VoteEvent.ballot("e-1", CREDENTIAL, "north-1", {"mayor": ["dana-moss"]})
    rows = [(0, "duplicate", ballot.to_json()),
            (1, "malformed", b'{"credential": "' + CREDENTIAL.encode() + b'", "x": [dana')]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        for offset, reason, raw in rows:
            cur.execute("insert into rejected_events (topic, partition, kafka_offset, reason, "
                        "detail, raw_payload) values (%s, 0, %s, %s, 'test', %s)",
                        (topic, offset, reason, raw))
        migration = next(m for m in db.migrations() if m.version == 13)
        cur.execute(migration.sql)
        cur.execute("select kafka_offset, raw_payload from rejected_events where topic = %s "
                    "order by kafka_offset", (topic,))
        kept = [bytes(raw) for _offset, raw in cur.fetchall()]

    assert json.loads(kept[0]) == json.loads(kept_payload(ballot.to_json()))
    assert kept[1] == b'{"credential": "[credential removed]", "x": [dana'
