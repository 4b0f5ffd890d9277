"""Ballots are counted in groups of k, and a ballot waiting for its group holds up nothing:
no transaction, region or time links a counted ballot to a voter, and the count stays live.
"""

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
from tallyflow.votes.casting import Caster, receipt_status
from tallyflow.votes.event import VoteEvent
from tallyflow.votes.secrecy import ballots_to_count
from tests.conftest import open_for_voting
from tests.security.linkage import K, assert_groups_of_k, linkage_groups


@pytest.mark.fast
def test_a_region_counts_all_but_its_latest_k_once_it_has_2k():
    assert ballots_to_count([0] * 9, range(9), [False] * 9, K).tolist() == [False] * 9
    assert ballots_to_count([0] * 12, range(12), [False] * 12, K).tolist() == \
        [True] * 7 + [False] * 5
    # In the order given, not the order listed; other regions and events apart.
    assert ballots_to_count([0] * 10, range(9, -1, -1), [False] * 10, K).tolist() == \
        [False] * 5 + [True] * 5
    assert ballots_to_count([-1, 1, 1], [0, 1, 2], [False] * 3, K).tolist() == \
        [True, False, False]
    # The final count takes a region's every ballot; k = 1 counts everything at once.
    assert ballots_to_count([0, 0, 1], [0, 1, 2], [True, True, False], K).tolist() == \
        [True, True, False]
    assert ballots_to_count([0, 0], [0, 1], [False, False], 1).tolist() == [True, True]


@pytest.mark.fast
@settings(max_examples=300, deadline=None)
@given(st.lists(st.lists(st.integers(0, 3), max_size=30), min_size=1, max_size=12),
       st.integers(1, 6))
def test_every_group_counted_holds_k_and_at_most_2k_minus_1_wait(batches, k):
    # batches: the regions of the ballots each batch reads; the last one is at close.
    waiting: list[tuple[int, int]] = []  # (region, arrival)
    arrived: Counter = Counter()
    counted_in_all: Counter = Counter()
    arrival = 0
    for number, regions in enumerate(batches):
        final = number == len(batches) - 1
        new = [(region, arrival + i) for i, region in enumerate(regions)]
        arrival += len(regions)
        arrived.update(region for region, _ in new)
        pool = waiting + new
        count = ballots_to_count([r for r, _ in pool], [a for _, a in pool],
                                 [final] * len(pool), k)
        counted = Counter(r for (r, _), c in zip(pool, count, strict=True) if c)
        waiting = [b for b, c in zip(pool, count, strict=True) if not c]
        counted_in_all.update(counted)
        for region, n in counted.items():
            if k > 1:
                assert n >= k or (final and counted_in_all[region] == arrived[region] < k), \
                    f"region {region}: {n} counted together"
        held = Counter(r for r, _ in waiting)
        assert all(n <= 2 * k - 1 for n in held.values()), held
        if k <= 1:
            assert not waiting
    assert not waiting
    assert counted_in_all == arrived


def _ballots(election_id: str, voters, option: str = "dana-moss") -> list[VoteEvent]:
    return [VoteEvent.ballot(election_id, credential, region, {"mayor": [option]})
            for _voter, credential, region in voters]


def _produce(producer: Producer, topic: str, events, partitions=(0, 1, 2, 3)) -> None:
    for i, event in enumerate(events):
        value = event if isinstance(event, bytes) else event.to_json()
        key = None if isinstance(event, bytes) else event.key
        producer.produce(topic, value, key=key, partition=partitions[i % len(partitions)])
    assert producer.flush(30) == 0


def _tally(spark, url, bootstrap, topic, said=None):
    return run_micro_batches(spark, url, bootstrap, topic, [0, 1, 2, 3], seconds=120,
                             stop_when_idle=True, ballot_group=K,
                             say=(said.append if said is not None else lambda _m: None))


def _counted(url, election_id) -> Counter:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select region_id from ballots where election_id = %s", (election_id,))
        return Counter(region for (region,) in cur.fetchall())


def _waiting(url, election_id) -> Counter:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select region_id from held_ballots where election_id = %s",
                    (election_id,))
        return Counter(region for (region,) in cur.fetchall())


def _by_region(voters) -> dict[str, list]:
    by_region: dict[str, list] = {}
    for voter in voters:
        by_region.setdefault(voter[2], []).append(voter)
    return by_region


def _large_election(url, new_election, tmp_path, voters: int):
    election = new_election("general-election.json")
    issued = open_for_voting(url, election.election_id, voters, 11, tmp_path)
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s",
                    (election.election_id,))
        regions = dict(cur.fetchall())
    return election.election_id, [(v, c, regions[v]) for v, c in issued]


def test_a_waiting_ballot_at_the_head_of_a_partition_holds_up_nothing_behind_it(
        spark, postgres_url, kafka_bootstrap, topic, new_election, tmp_path):
    eid, voters = _large_election(postgres_url, new_election, tmp_path, 2_400)
    by_region = _by_region(voters)
    quiet = min(by_region, key=lambda r: len(by_region[r]))
    # The quiet precinct casts one ballot only: it waits for the whole election.
    lone, rest = by_region[quiet][0], [v for v in voters if v[2] != quiet]
    random.Random(3).shuffle(rest)
    rejects = [VoteEvent.ballot(eid, "0" * 32, quiet, {"mayor": ["dana-moss"]}).to_json()
               for _ in range(20)]
    rejects += [VoteEvent.ballot(eid, credential, region, {"mayor": ["nobody"]}).to_json()
                for _voter, credential, region in rest[:15]]
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    # The lone ballot first in partition 0, then thousands of ballots and rejects behind it.
    _produce(producer, topic, _ballots(eid, [lone]), partitions=[0])
    behind = [*_ballots(eid, rest[15:]), *rejects]
    random.Random(4).shuffle(behind)
    _produce(producer, topic, behind, partitions=[0, 0, 1])

    results = _tally(spark, postgres_url, kafka_bootstrap, topic)

    assert ledger.untallied(postgres_url, kafka_bootstrap, topic) == 0
    assert sum(r.events for r in results) == 1 + len(behind)
    cast = Counter(region for _v, _c, region in [lone, *rest[15:]])
    counted, waiting = _counted(postgres_url, eid), _waiting(postgres_url, eid)
    assert counted + waiting == cast
    for region, n in cast.items():  # all counted at once but each region's last group
        assert waiting[region] == (n if n < 2 * K else K), (region, n, waiting[region])
    assert counted[quiet] == 0 and waiting[quiet] == 1
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select reason, count(*) from rejected_events where election_id = %s "
                    "group by reason order by reason", (eid,))
        assert cur.fetchall() == [("unknown_credential", 20), ("unknown_option", 15)]
        cur.execute("select count(*) from checkins where election_id = %s and voter_id = %s",
                    (eid, lone[0]))
        assert cur.fetchone() == (0,)  # no check-in before its group is counted
        cur.execute("select ballots from ballots_waiting where election_id = %s", (eid,))
        assert cur.fetchone() == (sum(waiting.values()),)
    assert_groups_of_k(postgres_url, eid)

    # At close every waiting ballot is counted, in groups of at least k again.
    close_election(postgres_url, eid, actor="test")
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == cast and _waiting(postgres_url, eid) == Counter()
    assert_groups_of_k(postgres_url, eid)


def test_a_voters_second_ballot_while_the_first_waits_is_a_duplicate_and_receipts_say_so(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    eid = election.election_id
    by_region = _by_region(voters)
    quiet = min(by_region, key=lambda r: len(by_region[r]))
    voter = by_region[quiet][0]
    caster = Caster(postgres_url, kafka_bootstrap, topic)
    try:
        first = caster.cast(eid, {"credential": voter[1], "region_id": quiet, "contests": [
            {"contest_id": "mayor", "selections": ["eli-brandt"]}]})
        assert first.status == 202, first.body
        _tally(spark, postgres_url, kafka_bootstrap, topic)
        waiting = receipt_status(postgres_url, first.body["receipt"]).body
        assert waiting["status"] == "waiting", waiting
        assert "counted with the next ballots of its precinct, or at close" in waiting["note"]

        second = caster.cast(eid, {"credential": voter[1], "region_id": quiet, "contests": [
            {"contest_id": "mayor", "selections": ["dana-moss"]}]})
        assert second.status == 202, second.body
        _tally(spark, postgres_url, kafka_bootstrap, topic)
    finally:
        caster.close()
    assert receipt_status(postgres_url, second.body["receipt"]).body["reason"] == "duplicate"
    assert receipt_status(postgres_url, first.body["receipt"]).body["status"] == "waiting"

    # Four more ballots of the precinct make five waiting: still none counted (k left).
    _produce(Producer({"bootstrap.servers": kafka_bootstrap}), topic,
             _ballots(eid, by_region[quiet][1:5]))
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == Counter()

    close_election(postgres_url, eid, actor="test")
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert receipt_status(postgres_url, first.body["receipt"]).body["status"] == "counted"
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s "
                    "and contest_id = 'mayor' and votes > 0 order by 1", (eid,))
        assert cur.fetchall() == [("dana-moss", 4), ("eli-brandt", 1)]  # the first counts
    assert_groups_of_k(postgres_url, eid)


def test_no_transaction_or_time_links_a_counted_ballot_to_a_voter(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    eid = election.election_id
    by_region = _by_region(voters)
    busy, quiet = sorted(by_region, key=lambda r: -len(by_region[r]))[:2]
    producer = Producer({"bootstrap.servers": kafka_bootstrap})

    # One ballot alone waits, read once: its offset is committed, its voter not checked in.
    _produce(producer, topic, _ballots(eid, by_region[quiet][:1]), partitions=[0])
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == Counter()
    assert ledger.untallied(postgres_url, kafka_bootstrap, topic) == 0

    # The quiet region's seven (with the first) wait: counting five would leave two. Twelve
    # in a busy region count seven together, leaving five for later.
    _produce(producer, topic, _ballots(eid, by_region[quiet][1:7]), partitions=[0])
    busy_ballots = _ballots(eid, by_region[busy][:12])
    random.Random(7).shuffle(busy_ballots)
    _produce(producer, topic, busy_ballots, partitions=[1, 2, 3])
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == Counter({busy: 12 - K})
    assert _waiting(postgres_url, eid) == Counter({busy: K, quiet: 7})

    # At close every ballot left is counted: five and seven, groups of at least K again.
    close_election(postgres_url, eid, actor="test")
    _tally(spark, postgres_url, kafka_bootstrap, topic)
    assert _counted(postgres_url, eid) == Counter({busy: 12, quiet: 7})

    groups = linkage_groups(postgres_url, eid)
    assert len(groups) == 3
    assert_groups_of_k(postgres_url, eid)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select column_name, data_type from information_schema.columns "
                    "where table_name = 'ballots'")
        columns = dict(cur.fetchall())
        cur.execute("select count(*) from rejected_events where topic = %s", (topic,))
        assert cur.fetchone()[0] == 0
    assert not [c for c, t in columns.items() if "time" in t or "date" in t], columns
