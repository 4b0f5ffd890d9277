"""Ballot secrecy: nothing counted links back to a voter, or to the order ballots were cast."""

from __future__ import annotations

import uuid

from confluent_kafka import Producer

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.elections import store
from tallyflow.elections.definition import parse_definition
from tallyflow.kafka import ensure_topics
from tallyflow.votes.event import VoteEvent
from tests.conftest import open_for_voting

COUNTED_TABLES = ("ballots", "option_totals", "option_region_totals", "contest_ballot_totals",
                  "turnout_by_region", "turnout_by_demographic", "ballots_per_minute",
                  "rejected_totals", "option_method_totals", "contest_method_totals",
                  "turnout_by_method", "option_vote_method_totals")
IDENTIFYING = {"voter_id", "credential", "credential_sha256", "event_id", "full_name",
               "birth_date", "kafka_offset", "offset", "partition", "cast_at", "checked_in_at"}


def test_no_counted_table_has_a_column_that_identifies_a_voter(postgres_url):
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select table_name, column_name from information_schema.columns "
                    "where table_schema = 'public' and table_name = any(%s)",
                    (list(COUNTED_TABLES),))
        columns = cur.fetchall()

    assert {t for t, _c in columns} == set(COUNTED_TABLES)
    assert [(t, c) for t, c in columns if c in IDENTIFYING] == []
    # A ballot keeps its style (the party of the primary it carries) and how it was cast,
    # as its precinct: what counting it needs, never who cast it or when.
    assert sorted(c for t, c in columns if t == "ballots") == [
        "ballot_id", "election_id", "party_id", "region_id", "selections", "vote_method"
    ]


def _rank_correlation(xs: list[int], ys: list[int]) -> float:
    n = len(xs)
    rank_x = {v: i for i, v in enumerate(sorted(xs))}
    rank_y = {v: i for i, v in enumerate(sorted(ys))}
    d2 = sum((rank_x[x] - rank_y[y]) ** 2 for x, y in zip(xs, ys, strict=True))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_ballot_ids_and_stored_order_do_not_follow_cast_order(
    spark, postgres_url, kafka_bootstrap, tmp_path
):
    # Ballot i approves the options whose bits are set in i, so each ballot says when it was
    # cast; the ledger must not keep that order anywhere else.
    options = [{"id": f"o{b}", "name": f"Option {b}"} for b in range(10)]
    election = parse_definition({
        "id": f"secret-{uuid.uuid4().hex[:8]}", "title": "Secrecy", "opens_at":
        "2026-01-01T00:00:00Z", "closes_at": "2099-01-01T00:00:00Z",
        "regions": [{"id": "all", "name": "All", "level": "x"},
                    {"id": "p", "name": "P", "level": "y", "parent": "all"}],
        "contests": [{"id": "poll", "title": "Poll", "kind": "approval", "options": options}],
    })
    store.create_election(postgres_url, election)
    issued = open_for_voting(postgres_url, election.election_id, 300, 3, tmp_path)
    topic = f"votes-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, {topic: 1})
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for i, (_voter, credential) in enumerate(issued, start=1):
        chosen = [f"o{b}" for b in range(10) if i >> b & 1]
        event = VoteEvent.ballot(election.election_id, credential, "p", {"poll": chosen})
        producer.produce(topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0

    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0], seconds=120,
                      stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select ballot_id::text, selections from ballots where election_id = %s "
                    "order by ctid", (election.election_id,))
        stored = cur.fetchall()
    cast_order = [sum(1 << int(o[1:]) for o in selections[0]["selections"])
                  for _id, selections in stored]
    assert sorted(cast_order) == list(range(1, 301))
    by_id = [cast for _id, cast in sorted(zip((i for i, _s in stored), cast_order,
                                                strict=True))]
    assert abs(_rank_correlation(cast_order, list(range(300)))) < 0.3, "stored order"
    assert abs(_rank_correlation(by_id, list(range(300)))) < 0.3, "ballot id order"
