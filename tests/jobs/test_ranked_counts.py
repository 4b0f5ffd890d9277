"""Ranked ballots through the real tally and recount: each distinct ranking counted once per
precinct, the recount agrees cell by cell, IRV and STV run from the stored counts alone,
and the tally stores the live rounds the certificate then confirms."""

from __future__ import annotations

import json
import random
from collections import Counter

from confluent_kafka import Producer

from jobs.certify_election import Services, certify_election
from jobs.recount_election import recount
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.feeds.publish import publish
from tallyflow.tabulation.ranked import RankedRules, tabulate
from tallyflow.tabulation.runoff import live_rounds
from tallyflow.votes.event import VoteEvent
from tests.conftest import open_for_voting

CANDIDATES = ["dana-moss", "eli-brandt", "farah-nasser", "gus-lindqvist", "hana-okoro"]
COUNCIL = ["ines-ward", "jon-park", "kai-mercer", "lena-voss", "milo-reyes"]  # 2 seats


def test_rankings_are_counted_once_recounted_and_tabulated_from_the_counts(
        spark, postgres_url, kafka_bootstrap, topic, new_election, tmp_path):
    election = new_election("ranked-mayor.json")
    eid = election.election_id
    issued = open_for_voting(postgres_url, eid, 300, 3, tmp_path)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id from voters where election_id = %s", (eid,))
        regions = dict(cur.fetchall())
    rng = random.Random(5)
    expected: Counter = Counter()
    council: Counter = Counter()
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "linger.ms": 20})
    for voter, credential in issued[:250]:
        ranking = rng.sample(CANDIDATES, rng.randint(1, len(CANDIDATES)))
        expected[(regions[voter], json.dumps(ranking, separators=(",", ":")))] += 1
        councillors = rng.sample(COUNCIL, rng.randint(1, 3))
        council[json.dumps(councillors, separators=(",", ":"))] += 1
        event = VoteEvent.ballot(eid, credential, regions[voter],
                                 {"mayor": ranking, "council": councillors})
        producer.produce(topic, event.to_json(), key=event.key)
    for voter, credential in issued[250:260]:  # ranked no one
        event = VoteEvent.ballot(eid, credential, regions[voter], {"mayor": []})
        producer.produce(topic, event.to_json(), key=event.key)
    for voter, credential in issued[:5]:  # second ballots: duplicates, never counted again
        event = VoteEvent.ballot(eid, credential, regions[voter], {"mayor": CANDIDATES[:1]})
        producer.produce(topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0

    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3],
                      seconds=120, stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select region_id, ranking, ballots from ranking_totals "
                    "where election_id = %s and contest_id = 'mayor'", (eid,))
        stored = {(region, ranking): n for region, ranking, n in cur.fetchall()}
    assert stored == dict(expected)

    recount(spark, postgres_url, eid)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select item, value from recount_cells "
                    "where election_id = %s and metric = 'ranking'", (eid,))
        recounted = dict(cur.fetchall())
        cur.execute("select item, value from aggregate_cells "
                    "where election_id = %s and metric = 'ranking'", (eid,))
        live = dict(cur.fetchall())
    assert recounted == live
    assert len([item for item in live if item.startswith("mayor/")]) == len(expected)

    # IRV from the stored counts, and from the ballots as cast: the same rounds.
    from_counts: Counter = Counter()
    for (_region, ranking), n in stored.items():
        from_counts[tuple((c,) for c in json.loads(ranking))] += n
    from_ballots: Counter = Counter()
    for (_region, ranking), n in expected.items():
        from_ballots[tuple((c,) for c in json.loads(ranking))] += n
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select roll_fingerprint from elections where election_id = %s", (eid,))
        (fingerprint,) = cur.fetchone()
    # The certificate's rules: ties drawn by the lot seeded with the roll's fingerprint.
    rules = RankedRules(max_skipped_ranks=None, tiebreak="lot", lot=(fingerprint, "mayor"))
    independent = tabulate(from_ballots, CANDIDATES, rules)
    assert [r.tally for r in tabulate(from_counts, CANDIDATES, rules).rounds] == \
        [r.tally for r in independent.rounds]

    # The tally ran the rounds too, in the batches that counted the rankings: the site's.
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select contest_id, ranking, ballots from ranking_contest_totals "
                    "where election_id = %s", (eid,))
        summed = {(contest, ranking): n for contest, ranking, n in cur.fetchall()}
        cur.execute("select contest_id, ballots, rounds from ranked_rounds "
                    "where election_id = %s", (eid,))
        live_rounds_of = {contest: (n, json.loads(rounds)) for contest, n, rounds
                          in cur.fetchall()}
    by_ranking: Counter = Counter()
    for (_region, ranking), n in expected.items():
        by_ranking[("mayor", ranking)] += n
    by_ranking.update({("council", ranking): n for ranking, n in council.items()})
    assert summed == dict(by_ranking)
    assert live_rounds_of["mayor"] == (250, json.loads(json.dumps(live_rounds(independent))))
    stv = tabulate(Counter({tuple((c,) for c in json.loads(r)): n
                            for r, n in council.items()}), COUNCIL, RankedRules(
        seats=2, winner_mode="multiple_winners_per_round", max_skipped_ranks=None,
        tiebreak="lot", lot=(fingerprint, "council"), decimal_places=4))
    assert live_rounds_of["council"] == (250, json.loads(json.dumps(live_rounds(stv))))
    assert len(stv.winners) == 2

    # What the site published before the close is anchored in the certificate.
    published = publish(postgres_url, eid, {"election_id": eid, "note": "as served"})
    # Certified from the recount: every round, the winner, the lock.
    certified = certify_election(Services(
        postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], spark,
        quality_dir=tmp_path / "gx", certificates_dir=tmp_path / "certificates",
        say=lambda _m: None), eid, actor="test")
    assert certified["certificate"]["published_feed"] == {
        "version": published.version, "chain_sha256": published.chain_sha256}
    mayor, seats = certified["certificate"]["contests"]
    assert mayor["kind"] == "ranked" and mayor["winners"] == independent.winners
    assert seats["winners"] == stv.winners and len(seats["rounds"]) == len(stv.rounds)
    assert seats["rule_options"]["numberOfWinners"] == "2"
    assert [r["round"] for r in mayor["rounds"]] == [r.number for r in independent.rounds]
    assert mayor["rounds"][0]["tally"] == {c: str(v) for c, v in
                                           independent.rounds[0].tally.items()}
    assert sum(o["votes"] for o in mayor["options"]) == 250  # first preferences
    page = (tmp_path / "certificates" / f"{eid}.html").read_text()
    assert "Round 1" in page and "Instant runoff" in page
    assert published.chain_sha256 in page
