"""Certification end to end on the real broker, Spark and Postgres."""

from __future__ import annotations

import hashlib
import json
import random
import uuid
from collections import Counter

import psycopg2
import pytest

from jobs.certify_election import Services, certify_election
from jobs.recount_election import recount
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.certification.drain import drain
from tallyflow.certification.reconcile import reconcile
from tallyflow.certification.steps import CertificationRefused
from tallyflow.certification.tabulate import tabulate
from tallyflow.elections.lifecycle import close_election
from tallyflow.votes.event import VoteEvent
from tests.conftest import ballot_body, take_in_through_the_api
from tests.jobs.conftest import MAYORS, PARTITIONS, produce, scenario

QUIET = {"say": lambda _m: None}


@pytest.fixture
def services(spark, postgres_url, kafka_bootstrap, topic, tmp_path):
    return Services(postgres_url, kafka_bootstrap, topic, PARTITIONS, spark,
                    quality_dir=tmp_path / "data-quality",
                    certificates_dir=tmp_path / "certificates", drain_timeout=120, **QUIET)


def _audit(url: str, election_id: str) -> list[tuple[str, str]]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select action, outcome from election_audit_log where election_id = %s "
                    "and action like 'certify.%%' order by audit_id", (election_id,))
        return cur.fetchall()


def _status(url: str, election_id: str) -> str:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select status from elections where election_id = %s", (election_id,))
        return cur.fetchone()[0]


def test_certificate_matches_an_independent_count_and_locks_the_results(
    services, services_env, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    eid = election.election_id
    messages, totals, rejects, counted, api = scenario(election, voters, random.Random(11))
    produce(kafka_bootstrap, topic, messages)
    for event, taken_in in api:
        take_in_through_the_api(postgres_url, services.topic, event, taken_in)

    certified = certify_election(services, eid, actor="test")

    certificate = certified["certificate"]
    options = Counter()
    for (contest, option, _region), n in totals.items():
        options[(contest, option)] += n
    found = {(c["contest_id"], o["option_id"]): o["votes"]
             for c in certificate["contests"] for o in c["options"] if o["votes"]}
    assert found == dict(options)
    mayor = next(c for c in certificate["contests"] if c["contest_id"] == "mayor")
    most = max(options[("mayor", m)] for m in MAYORS)
    leaders = [m for m in MAYORS if options[("mayor", m)] == most]
    assert mayor["winners"][0] in leaders and (mayor["tie"] is None) == (len(leaders) == 1)
    assert mayor["ballots"] == len(counted) and mayor["overvoted_ballots"] == 1
    assert certificate["turnout"]["ballots"] == len(counted)
    assert certificate["turnout"]["by_region"] == dict(Counter(r for _v, r in counted))
    assert certificate["rejected_by_reason"] == {
        k: v for k, v in rejects.items() if k not in ("unknown_election", "malformed")}
    assert sum(p["consumed"] for p in certificate["reconciliation"]["partitions"].values()) \
        == len(messages) + len(api)
    assert certificate["election"]["roll_fingerprint"]
    assert certificate["data_quality"]["reports"]
    # the digest verifies from the published file
    text = (services.certificates_dir / f"{eid}.json").read_text(encoding="utf-8").rstrip("\n")
    assert hashlib.sha256(text.encode()).hexdigest() == certified["certificate_sha256"]
    assert json.loads(text) == certificate
    page = (services.certificates_dir / f"{eid}.html").read_text(encoding="utf-8")
    assert certified["certificate_sha256"] in page
    assert _status(postgres_url, eid) == "certified"
    assert [a for a, _o in _audit(postgres_url, eid)] == [
        "certify.close", "certify.drain", "certify.recount", "certify.reconcile",
        "certify.tabulate", "certify.certify"]
    assert {o for _a, o in _audit(postgres_url, eid)} == {"ok"}

    # the site serves the certificate and labels the results official
    from dash_app.app import server
    from dash_app.queries import public_elections
    from dash_app.tables import results_label

    client = server.test_client()
    served = client.get(f"/api/v1/elections/{eid}/certificate")
    assert served.status_code == 200
    assert hashlib.sha256(served.data).hexdigest() == certified["certificate_sha256"] \
        == served.headers["X-Certificate-SHA256"]
    assert client.get(f"/api/v1/elections/{eid}/certificate.html").data.decode() == page
    assert client.get("/api/v1/elections/no-such/certificate").status_code == 404
    cast = client.post(f"/api/v1/elections/{eid}/ballots",
                       json=ballot_body(voters[-1][1], voters[-1][2]))
    assert cast.status_code == 409 and "closed" in cast.json["title"]
    row = next(r for r in public_elections(postgres_url) if r["election_id"] == eid)
    label = results_label(row)
    assert label.children[0].children == "Official"
    assert label.children[2].href == f"/api/v1/elections/{eid}/certificate.html"

    # certifying again changes nothing and reports the certificate
    again = certify_election(services, eid, actor="test")
    assert again["already_certified"] and again["certificate_sha256"] == \
        certified["certificate_sha256"]

    # the lock: certified data refuses every write, whoever asks
    refused = [
        ("update option_totals set votes = votes + 1 where election_id = %s", (eid,)),
        ("delete from ballots where ballot_id = "
         "(select ballot_id from ballots where election_id = %s limit 1)", (eid,)),
        ("insert into checkins (election_id, voter_id, region_id, checked_in_at) "
         "values (%s, %s, %s, now())", (eid, voters[-1][0], voters[-1][2])),
        ("update turnout_by_region set ballots = 0 where election_id = %s", (eid,)),
        ("update elections set title = 'changed' where election_id = %s", (eid,)),
        ("update certificates set html = '' where election_id = %s", (eid,)),
    ]
    for statement, params in refused:
        with pytest.raises(psycopg2.errors.RaiseException, match="certified|certificates"), \
                db.connection(postgres_url) as conn, conn.cursor() as cur:
            cur.execute(statement, params)

    # a late ballot is kept, rejected as closed, and changes no result
    _late_voter, late_credential, late_region = voters[-1]
    late = VoteEvent.ballot(eid, late_credential, late_region, {"mayor": [MAYORS[0]]})
    produce(kafka_bootstrap, topic, [(late.key, late.to_json())])
    run_micro_batches(services.spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                      seconds=60, stop_when_idle=True, **QUIET)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select reason, detail from rejected_events where topic = %s "
                    "and receipt = %s", (topic, hashlib.sha256(
                        f"receipt:{late.event_id}:{late_credential}".encode()).hexdigest()))
        assert cur.fetchone() == ("closed", "election is certified")
        cur.execute("select count(*) from checkins where election_id = %s", (eid,))
        assert cur.fetchone()[0] == len(counted)


def _certify_steps(services, election_id: str) -> dict:
    url = services.database_url
    close_election(url, election_id, actor="test")
    offsets = drain(url, election_id, services.kafka_bootstrap, services.topic,
                    services.partitions,
                    lambda: run_micro_batches(services.spark, url, services.kafka_bootstrap,
                                              services.topic, services.partitions, seconds=60,
                                              stop_when_idle=True, **QUIET),
                    actor="test", **QUIET)
    return offsets


TAMPERING = {
    "a live aggregate cell": (
        "update option_totals set votes = votes + 1 "
        "where election_id = %(e)s and contest_id = 'mayor' and option_id = 'dana-moss'",
        "update option_totals set votes = votes - 1 "
        "where election_id = %(e)s and contest_id = 'mayor' and option_id = 'dana-moss'",
        ("recount", "option mayor/dana-moss"),
    ),
    "a deleted ballot": (
        "delete from ballots where ballot_id = "
        "(select ballot_id from ballots where election_id = %(e)s limit 1)",
        None,
        ("ledger", "all regions"),
    ),
    "a check-in without a ballot": (
        "insert into checkins (election_id, voter_id, region_id, checked_in_at) "
        "select election_id, voter_id, region_id, now() from voters "
        "where election_id = %(e)s and voter_id not in "
        "(select voter_id from checkins where election_id = %(e)s) limit 1",
        None,
        ("ledger", "all regions"),
    ),
}


@pytest.mark.parametrize("tampering", list(TAMPERING))
def test_a_discrepancy_refuses_certification_and_names_it(
    tampering, services, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    eid = election.election_id
    events = [VoteEvent.ballot(eid, credential, region, {"mayor": [MAYORS[i % 3]]})
              for i, (_voter, credential, region) in enumerate(voters[:60])]
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in events])
    offsets = _certify_steps(services, eid)
    tamper, mend, (check, where) = TAMPERING[tampering]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute(tamper, {"e": eid})
        assert cur.rowcount == 1
    recount(services.spark, postgres_url, eid)

    with pytest.raises(CertificationRefused) as refusal:
        reconcile(postgres_url, eid, topic, offsets, project_dir=services.quality_dir,
                  actor="test")

    named = {(d["check"], d["where"]) for d in refusal.value.discrepancies}
    assert (check, where) in named, refusal.value
    assert f"{check}: {where}: expected" in str(refusal.value)
    assert _status(postgres_url, eid) == "closed"
    assert _audit(postgres_url, eid)[-1] == ("certify.reconcile", "refused")
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select suite_name, is_passed, report_url from validation_runs "
                    "where election_id = %s and suite_name = %s order by validation_run_id "
                    "desc limit 1", (eid, f"certify.{check}"))
        suite, passed, report = cur.fetchone()
    assert not passed and (services.quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site"
                           / report).exists()
    if mend is not None:  # once the cause is fixed, certification runs again and succeeds
        with db.connection(postgres_url) as conn, conn.cursor() as cur:
            cur.execute(mend, {"e": eid})
        certified = certify_election(services, eid, actor="test")
        assert certified["certificate"]["turnout"]["ballots"] == 60
        assert _status(postgres_url, eid) == "certified"


def test_a_tie_is_broken_by_the_seeded_lot_reproducibly(
    services, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    eid = election.election_id
    events = [VoteEvent.ballot(eid, credential, region,
                               {"mayor": [MAYORS[i % 2]], "council": ["hana-ito", "june-abara"]
                                if i % 2 else ["ivan-petrov", "june-abara"]})
              for i, (_voter, credential, region) in enumerate(voters[:40])]
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in events])

    certified = certify_election(services, eid, actor="test")

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select roll_fingerprint from elections where election_id = %s", (eid,))
        (fingerprint,) = cur.fetchone()

    def drawn_first(contest: str, tied: list[str]) -> str:
        seed = hashlib.sha256(f"tallyflow-lot|{fingerprint}|{contest}".encode()).hexdigest()
        return min(tied, key=lambda o: hashlib.sha256(f"{seed}|{o}".encode()).hexdigest())

    contests = {c["contest_id"]: c for c in certified["certificate"]["contests"]}
    mayor, council = contests["mayor"], contests["council"]
    assert mayor["tie"]["options"] == ["dana-moss", "eli-brandt"]
    assert mayor["winners"] == [drawn_first("mayor", ["dana-moss", "eli-brandt"])]
    # june-abara has 40 votes; hana-ito and ivan-petrov tie at 20 for the second seat
    assert council["winners"] == ["june-abara",
                                  drawn_first("council", ["hana-ito", "ivan-petrov"])]
    assert council["tie"]["seats"] == 1 and council["tie"]["votes"] == 20
    # the same inputs give the same winners, and the stored certificate still verifies
    assert tabulate(postgres_url, eid, actor="test") == certified["certificate"]["contests"]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select canonical_json, certificate_sha256 from certificates "
                    "where election_id = %s", (eid,))
        text, digest = cur.fetchone()
    assert hashlib.sha256(text.encode()).hexdigest() == digest == certified["certificate_sha256"]


def test_a_ranked_contest_is_tabulated_by_instant_runoff_with_ties_drawn_by_lot(postgres_url):
    from tallyflow.elections.definition import parse_definition
    from tallyflow.elections.store import create_election

    definition = {
        "id": f"t-ranked-{uuid.uuid4().hex[:8]}",
        "title": "Ranked", "opens_at": "2026-11-03T07:00:00Z",
        "closes_at": "2026-11-03T19:00:00Z",
        "regions": [{"id": "town", "name": "Town", "level": "town"}],
        "contests": [{"id": "chair", "title": "Chair", "kind": "ranked",
                      "options": [{"id": "a", "name": "A"}, {"id": "b", "name": "B"},
                                  {"id": "c", "name": "C"}]}],
    }
    election_id = create_election(postgres_url, parse_definition(definition), actor="test")
    # What a recount of five ballots stored: c is eliminated, its ballot goes to b, and a
    # and b tie 2-2 in the last round.
    cells = [("ranking", 'chair/town/["a"]', 2), ("ranking", 'chair/town/["b","a"]', 2),
             ("ranking", 'chair/town/["c","b"]', 1), ("contest_ballots", "chair", 5)]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        for metric, item, value in cells:
            cur.execute("insert into recount_cells (election_id, metric, item, value) "
                        "values (%s, %s, %s, %s)", (election_id, metric, item, value))

    (chair,) = tabulate(postgres_url, election_id, actor="test")

    assert [o["votes"] for o in chair["options"]] == [2, 2, 1]  # first preferences
    assert [(r["round"], r["tally"]) for r in chair["rounds"]] == [
        (1, {"a": "2", "b": "2", "c": "1"}), (2, {"a": "2", "b": "3"})]
    assert chair["winners"] == ["b"]
    assert chair["rounds"][0]["tallyResults"] == [{"eliminated": "c",
                                                   "transfers": {"b": "1"}}]
    assert chair["tie"] is None and "Instant runoff" in chair["rule"]
    assert chair["rule_options"]["overvoteRule"] == "exhaustImmediately"
    assert _audit(postgres_url, election_id) == [("certify.tabulate", "ok")]


@pytest.mark.fast
def test_a_ranked_tie_between_the_last_two_is_drawn_by_lot():
    from tallyflow.tabulation import lot_order
    from tallyflow.tabulation.ranked import RankedRules
    from tallyflow.tabulation.ranked import tabulate as instant_runoff

    counted = instant_runoff({(("a",),): 2, (("b",),): 2}, ["a", "b"],
                             RankedRules(tiebreak="lot", lot=("ab" * 32, "chair")))

    drawn = lot_order("ab" * 32, "chair", ["a", "b"])
    assert counted.winners == [drawn[0]]
    assert counted.draws == [{"tied": ["a", "b"], "draw": drawn, "round": 1,
                              "elected": drawn[0]}]


def test_only_an_open_or_closed_election_can_be_certified(postgres_url, new_election):
    from tallyflow.elections.store import ElectionNotReady

    election = new_election()

    with pytest.raises(ElectionNotReady, match="is draft: only an open or closed"):
        close_election(postgres_url, election.election_id, actor="test")
    assert _audit(postgres_url, election.election_id) == [("certify.close", "failed")]


def test_ballots_after_the_close_are_rejected_and_reconciliation_still_holds(
    services, postgres_url, kafka_bootstrap, topic, open_election
):
    election, voters = open_election
    eid = election.election_id
    on_time = [VoteEvent.ballot(eid, credential, region, {"mayor": [MAYORS[1]]})
               for _voter, credential, region in voters[:30]]
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in on_time])
    offsets = _certify_steps(services, eid)
    late = [VoteEvent.ballot(eid, credential, region, {"mayor": [MAYORS[2]]})
            for _voter, credential, region in voters[30:40]]
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in late])
    run_micro_batches(services.spark, postgres_url, kafka_bootstrap, topic, PARTITIONS,
                      seconds=60, stop_when_idle=True, **QUIET)  # the running tally goes on
    recount(services.spark, postgres_url, eid)

    reconciled = reconcile(postgres_url, eid, topic, offsets,
                           project_dir=services.quality_dir, actor="test")

    partitions = reconciled["figures"]["partitions"]
    assert sum(p["consumed"] for p in partitions.values()) == 40
    assert sum(p["counted"] for p in partitions.values()) == 30
    assert sum(p["rejected"] for p in partitions.values()) == 10
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select reason, count(*) from rejected_events where topic = %s "
                    "group by reason", (topic,))
        assert cur.fetchall() == [("closed", 10)]


def test_a_ballot_waiting_in_another_open_election_does_not_stop_a_certification(
        services, postgres_url, kafka_bootstrap, topic, new_election, tmp_path):
    """Another election's lone ballot, waiting for its group of k, sits in the partition
    before this election's last ballots: the drain reads past it and it goes on waiting, in
    a group of its own precinct, never counted smaller."""
    from confluent_kafka import Producer

    from tests.conftest import open_for_voting

    closing, other = new_election(), new_election()
    ballots = {}
    for election, seed in ((closing, 1), (other, 2)):
        issued = open_for_voting(postgres_url, election.election_id, 20, seed, tmp_path)
        with db.connection(postgres_url) as conn, conn.cursor() as cur:
            cur.execute("select voter_id, region_id from voters where election_id = %s",
                        (election.election_id,))
            regions = dict(cur.fetchall())
        option = election.contests[0].options[0].option_id
        ballots[election.election_id] = [
            VoteEvent.ballot(election.election_id, credential, regions[voter],
                             {election.contests[0].contest_id: [option]})
            for voter, credential in issued]
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    order = (ballots[closing.election_id][:10] + ballots[other.election_id][:1]
             + ballots[closing.election_id][10:])
    for event in order:  # one partition, in this order
        producer.produce(topic, event.to_json(), key=event.key, partition=0)
    assert producer.flush(30) == 0
    said: list[str] = []
    services.say = said.append

    certified = certify_election(services, closing.election_id, actor="test")

    assert certified["certificate"]["turnout"]["ballots"] == 20
    partitions = certified["certificate"]["reconciliation"]["partitions"]
    assert partitions["0"] == {"counted": 20, "rejected": 0, "waiting": 1, "consumed": 21}
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from ballots where election_id = %s",
                    (other.election_id,))
        assert cur.fetchone() == (0,)
        cur.execute("select count(*) from held_ballots where election_id = %s",
                    (other.election_id,))
        assert cur.fetchone() == (1,)  # still waiting, not lost
