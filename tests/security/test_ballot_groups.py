"""Ballots are counted in groups: no transaction, region or time links a ballot to a voter."""

from __future__ import annotations

import random
from collections import Counter

import pytest
from confluent_kafka import Producer
from hypothesis import given, settings
from hypothesis import strategies as st

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.elections.lifecycle import close_election
from tallyflow.votes import ledger
from tallyflow.votes.event import VoteEvent
from tallyflow.votes.secrecy import ballot_group_cut

K = 5


def _committed(partitions, offsets, groups, cut):
    return Counter(g for p, o, g in zip(partitions, offsets, groups, strict=True)
                   if g >= 0 and o < cut[p])


@pytest.mark.fast
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.integers(-1, 4)), max_size=120),
       st.integers(1, 7))
def test_a_cut_commits_each_group_whole_and_leaves_as_many_behind(events, k):
    # events: (partition, group) in the order each partition's log holds them.
    next_offset: Counter = Counter()
    partitions, offsets, groups = [], [], []
    for partition, group in events:
        partitions.append(partition)
        offsets.append(next_offset[partition])
        groups.append(group)
        next_offset[partition] += 1
    ends = {p: next_offset[p] for p in range(4)}

    cut = ballot_group_cut(partitions, offsets, groups, ends, k)

    assert all(0 <= cut[p] <= ends[p] for p in ends)
    committed = _committed(partitions, offsets, groups, cut)
    read = Counter(g for g in groups if g >= 0)
    for group, count in committed.items():
        if k > 1:
            assert count >= k, f"group {group}: {count} counted together"
            assert read[group] - count >= k, f"group {group}: too few left for later"
    if k == 1:
        assert cut == ends


@pytest.mark.fast
def test_a_lone_ballot_waits_and_a_full_group_goes():
    assert ballot_group_cut([0], [10], [0], {0: 11}, K) == {0: 10}
    assert ballot_group_cut([0] * 9, range(9), [0] * 9, {0: 9}, K) == {0: 0}
    assert ballot_group_cut([0] * 12, range(12), [0] * 12, {0: 12}, K) == {0: 7}
    # Ballots of a closed election (-1) and other events are never held.
    assert ballot_group_cut([0, 0], [3, 4], [-1, -1], {0: 5}, K) == {0: 5}


def _cast(producer: Producer, topic: str, election_id: str, voters, partitions=(0, 1, 2, 3)):
    for i, (_voter, credential, region) in enumerate(voters):
        event = VoteEvent.ballot(election_id, credential, region, {"mayor": ["dana-moss"]})
        producer.produce(topic, event.to_json(), key=event.key,
                         partition=partitions[i % len(partitions)])
    assert producer.flush(30) == 0


def _tally(spark, url, bootstrap, topic):
    run_micro_batches(spark, url, bootstrap, topic, [0, 1, 2, 3], seconds=120,
                      stop_when_idle=True, ballot_group=K, say=lambda _m: None)


def _counted(url, election_id) -> Counter:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select region_id from ballots where election_id = %s", (election_id,))
        return Counter(region for (region,) in cur.fetchall())


def _linkage_groups(url, election_id) -> list[tuple]:
    """Per (transaction, region): the ballots it added and the voters it checked in."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("""
            select b.tx, b.region_id, b.ballots, coalesce(c.voters, 0)
            from (select xmin::text as tx, region_id, count(*) as ballots from ballots
                  where election_id = %(e)s group by 1, 2) b
            left join (select xmin::text as tx, region_id, count(*) as voters from checkins
                       where election_id = %(e)s group by 1, 2) c using (tx, region_id)
        """, {"e": election_id})
        return cur.fetchall()


def test_no_transaction_or_time_links_a_counted_ballot_to_a_voter(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    eid = election.election_id
    by_region: dict[str, list] = {}
    for voter in voters:
        by_region.setdefault(voter[2], []).append(voter)
    busy, quiet = sorted(by_region, key=lambda r: -len(by_region[r]))[:2]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})

    # One ballot alone: held back, not counted, its voter not checked in.
    _cast(producer, topic, eid, by_region[quiet][:1], partitions=[0])
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == Counter()
    assert ledger.untallied(postgres_url, kafka_bootstrap, topic) == 1

    # The quiet region's seven (with the first) wait: counting five would leave two. Twelve
    # in a busy region count together, leaving at least five for later.
    _cast(producer, topic, eid, by_region[quiet][1:7], partitions=[0])
    busy_ballots = by_region[busy][:12]
    random.Random(7).shuffle(busy_ballots)
    _cast(producer, topic, eid, busy_ballots, partitions=[1, 2, 3])
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    counted = _counted(postgres_url, eid)
    assert list(counted) == [busy] and K <= counted[busy] <= 12 - K, counted

    # At close every ballot left is counted: five and seven, groups of at least K again.
    close_election(postgres_url, eid, actor="test")
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == Counter({busy: 12, quiet: 7})

    groups = _linkage_groups(postgres_url, eid)
    assert len(groups) == 3
    assert [g for g in groups if g[2] < K or g[3] < K] == []
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select column_name, data_type from information_schema.columns "
                    "where table_name = 'ballots'")
        columns = dict(cur.fetchall())
        cur.execute("select count(*) from rejected_events where topic = %s", (topic,))
        assert cur.fetchone()[0] == 0
    assert not [c for c, t in columns.items() if "time" in t or "date" in t], columns


def test_stopping_the_platform_releases_held_ballots(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    producer = Producer({"bootstrap.servers": kafka_bootstrap})
    _cast(producer, topic, election.election_id, voters[:1])
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert sum(_counted(postgres_url, election.election_id).values()) == 0

    ledger.release_ballot_groups(postgres_url, 60, "test: the platform is stopping")
    try:
        _tally(spark, postgres_url, kafka_bootstrap, topic)
        assert sum(_counted(postgres_url, election.election_id).values()) == 1
        assert ledger.untallied(postgres_url, kafka_bootstrap, topic) == 0
    finally:
        with db.connection(postgres_url) as conn, conn.cursor() as cur:
            cur.execute("update ballot_group_releases set until = now() "
                        "where reason like 'test:%%'")
