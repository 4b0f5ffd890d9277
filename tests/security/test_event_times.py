"""A producer cannot backdate a ballot into the count: the broker's clock and the casting
API's record judge when a ballot came, never a time the event claims."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from confluent_kafka import Producer

from jobs.tally_votes import run_micro_batches
from jobs.vote_source import event_keys
from tallyflow import db
from tallyflow.elections.lifecycle import close_election
from tallyflow.votes.event import VoteEvent
from tests.conftest import take_in_through_the_api


@pytest.mark.fast
def test_the_lookup_reads_each_events_id_in_lower_case_or_none():
    event = VoteEvent.ballot("e-1", "0123456789abcdef0123456789abcdef", "r", {})
    upper = event.to_json().replace(event.event_id.encode(), event.event_id.upper().encode())

    _keys, ids = event_keys([event.to_json(), upper, b'{"event_id": "x"}', b"[]", None])

    assert ids == [event.event_id, event.event_id, None, None, None]


def test_a_backdated_ballot_after_the_close_is_rejected_and_a_delayed_api_ballot_counts(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    eid = election.election_id
    (_v1, api_credential, api_region), (_v2, late_credential, late_region) = voters[:2]
    # The casting API took one ballot in while the election was open; its outbox has not
    # published it yet.
    api_ballot = VoteEvent.ballot(eid, api_credential, api_region, {"mayor": ["dana-moss"]})
    take_in_through_the_api(postgres_url, topic, api_ballot, datetime.now(UTC))
    closed_at = datetime.fromisoformat(close_election(postgres_url, eid, actor="test")
                                       ["closes_at"])

    # After the close, a producer sends a ballot claiming it came while the election was
    # open.
    claimed = closed_at - timedelta(seconds=1)
    late = VoteEvent.ballot(eid, late_credential, late_region, {"mayor": ["eli-brandt"]},
                            received_at=claimed)
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    producer.produce(topic, late.to_json(), key=late.key, partition=0)
    assert producer.flush(30) == 0

    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], seconds=60,
                      stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select selections from ballots where election_id = %s", (eid,))
        ballots = [row[0] for row in cur.fetchall()]
        cur.execute("select reason, broker_timestamp from rejected_events where topic = %s",
                    (topic,))
        rejected = cur.fetchall()
    assert ballots == [[{"contest_id": "mayor", "selections": ["dana-moss"]}]], rejected
    assert [reason for reason, _at in rejected] == ["closed"]
    assert rejected[0][1] >= closed_at  # judged by the broker's time
