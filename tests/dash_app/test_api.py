"""The casting API over HTTP (Flask's test client), on the real Postgres, broker and tally."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
from confluent_kafka import Consumer, KafkaError, TopicPartition

import dash_app.api as api_module
from dash_app.app import server
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.votes.casting import Caster
from tests.conftest import ballot_body


@pytest.fixture
def caster(postgres_url, kafka_bootstrap, topic, monkeypatch):
    """The API's publisher, pointed at this test's own topic."""
    caster = Caster(postgres_url, kafka_bootstrap, topic)
    monkeypatch.setattr(api_module, "_caster", lambda: caster)
    yield caster
    caster.close()


@pytest.fixture
def client(services_env, caster):
    return server.test_client()


def _messages(bootstrap: str, topic: str) -> list[dict]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "api-test",
                         "enable.partition.eof": True, "log_level": 3})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(4)])
    found, ended = [], set()
    while len(ended) < 4:
        for message in consumer.consume(100, timeout=5):
            if message.error():
                assert message.error().code() == KafkaError._PARTITION_EOF
                ended.add(message.partition())
            else:
                found.append(json.loads(message.value()))
    consumer.close()
    return found


def _tally(spark, postgres_url, kafka_bootstrap, topic) -> None:
    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], seconds=120,
                      stop_when_idle=True, say=lambda _m: None)


def test_a_ballot_gets_a_receipt_and_the_receipt_shows_it_counted(
        client, spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    _voter, credential, region = voters[0]
    ballot = ballot_body(credential, region, received_at="1999-01-01T00:00:00Z")

    answer = client.post(f"/api/v1/elections/{election.election_id}/ballots", json=ballot)

    assert answer.status_code == 202, answer.json
    receipt = answer.json["receipt"]
    expected = hashlib.sha256(f"receipt:{ballot['event_id']}:{credential}".encode())
    assert receipt == expected.hexdigest()
    (published,) = _messages(kafka_bootstrap, topic)
    assert published["election_id"] == election.election_id
    assert published["received_at"] == answer.json["received_at"]  # the client's is ignored
    assert client.get(f"/api/v1/receipts/{receipt}").json["status"] == "pending"

    _tally(spark, postgres_url, kafka_bootstrap, topic)

    status = client.get(f"/api/v1/receipts/{receipt}").json
    assert status["status"] == "counted"
    assert status["counted_at"].endswith(":00.000Z")  # to the minute
    assert "dana-moss" not in json.dumps(status)  # never what it chose
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select votes from option_totals where election_id = %s "
                    "and option_id = 'dana-moss'", (election.election_id,))
        assert cur.fetchone() == (1,)


def test_a_retried_event_id_gets_the_same_receipt_and_is_published_once(
        client, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    _voter, credential, region = voters[1]
    ballot = ballot_body(credential, region)
    url = f"/api/v1/elections/{election.election_id}/ballots"

    first = client.post(url, json=ballot)
    retry = client.post(url, json={**ballot, "cast_at": "2030-01-01T00:00:00Z"})
    changed = client.post(url, json={**ballot, "contests": []})

    assert (first.status_code, retry.status_code) == (202, 202)
    assert retry.json["receipt"] == first.json["receipt"]
    assert (first.json["repeat"], retry.json["repeat"]) == (False, True)
    assert changed.status_code == 400
    assert "different ballot" in changed.json["errors"][0]
    assert len(_messages(kafka_bootstrap, topic)) == 1


def test_a_rejected_ballot_shows_why_on_its_receipt(
        client, spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    _voter, credential, region = voters[2]
    url = f"/api/v1/elections/{election.election_id}/ballots"
    first = client.post(url, json=ballot_body(credential, region))
    again = client.post(url, json=ballot_body(credential, region))  # a new event id: a 2nd ballot
    assert (first.status_code, again.status_code) == (202, 202)

    _tally(spark, postgres_url, kafka_bootstrap, topic)

    assert client.get(f"/api/v1/receipts/{first.json['receipt']}").json["status"] == "counted"
    status = client.get(f"/api/v1/receipts/{again.json['receipt']}").json
    assert (status["status"], status["reason"]) == ("rejected", "duplicate")


def test_each_bad_request_gets_its_status_and_reason(
        client, postgres_url, kafka_bootstrap, topic, open_election, new_election):
    election, voters = open_election
    _voter, credential, region = voters[3]
    url = f"/api/v1/elections/{election.election_id}/ballots"
    later = new_election(opens_at="+1d", closes_at="+2d")
    closed = new_election()
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update elections set status = 'closed' where election_id = %s",
                    (closed.election_id,))

    def post(path, **kwargs):
        answer = client.post(path, **kwargs)
        return answer.status_code, " | ".join(answer.json["errors"])

    assert post(url, data="{not json", content_type="application/json")[0] == 400
    assert post(url, json=[1, 2])[0] == 400
    status, why = post(url, json={**ballot_body(credential, region), "credential": "voter-42"})
    assert status == 400 and "credential" in why and "32 lowercase hex" in why
    status, why = post(url, json={"credential": credential})
    assert status == 400 and "region_id: is required" in why and "contests: is required" in why
    status, why = post(url, json={**ballot_body(credential, region), "election_id": "other"})
    assert status == 400 and "'other'" in why and election.election_id in why
    status, why = post("/api/v1/elections/no-such-election/ballots",
                       json=ballot_body(credential, region))
    assert status == 404 and "no-such-election" in why
    status, why = post(f"/api/v1/elections/{later.election_id}/ballots",
                       json=ballot_body(credential, region))
    assert status == 409 and "opens at" in why
    status, why = post(f"/api/v1/elections/{closed.election_id}/ballots",
                       json=ballot_body(credential, region))
    assert status == 409 and "closed" in why
    assert client.get("/api/v1/receipts/not-a-receipt").status_code == 400
    assert client.get(f"/api/v1/receipts/{'a' * 64}").status_code == 404
    assert _messages(kafka_bootstrap, topic) == []  # nothing bad was published


def test_the_openapi_description_covers_every_api_route(client):
    answer = client.get("/api/v1/openapi.json")

    assert answer.status_code == 200
    documented = {(path, method.upper()) for path, item in answer.json["paths"].items()
                  for method in item}
    served = {(re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method)
              for rule in server.url_map.iter_rules() if rule.rule.startswith("/api/")
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    assert documented == served


def test_a_voter_asks_which_contests_are_on_their_ballot(client, open_primary, open_election):
    election, voters = open_primary
    _voter, credential, _region, _party = next(
        v for v in voters if v[2].startswith("ward-2-") and v[3] == "greens")
    url = f"/api/v1/elections/{election.election_id}/ballot-style"

    answer = client.post(url, json={"credential": credential})

    assert answer.status_code == 200
    assert answer.json == {"election_id": election.election_id,
                           "contests": ["mayor", "ward-2-council", "greens-committee",
                                        "library-bond"]}
    general, general_voters = open_election  # no district contests, no primaries
    assert client.post(f"/api/v1/elections/{general.election_id}/ballot-style",
                       json={"credential": general_voters[0][1]}).json["contests"] == [
        "mayor", "council", "park-priorities"]
    assert client.post(url, json={"credential": "0" * 32}).status_code == 403
    assert client.post("/api/v1/elections/no-such-election/ballot-style",
                       json={"credential": credential}).status_code == 404
    assert client.post(url, json=["not", "an", "object"]).status_code == 400
    assert client.post(url, json={"credential": "voter-42"}).status_code == 400
    assert client.post(url, data=f"credential={credential}",
                       content_type="application/x-www-form-urlencoded").status_code == 415


def test_a_ballot_marking_another_wards_contest_gets_a_422_naming_it(
        client, kafka_bootstrap, topic, open_primary):
    election, voters = open_primary
    _voter, credential, region, _party = next(v for v in voters if v[2].startswith("ward-1-"))
    ballot = {**ballot_body(credential, region),
              "contests": [{"contest_id": "mayor", "selections": ["dana-moss"]},
                           {"contest_id": "ward-2-council", "selections": ["june-abara"]}]}

    answer = client.post(f"/api/v1/elections/{election.election_id}/ballots", json=ballot)

    assert answer.status_code == 422 and answer.mimetype == "application/problem+json"
    assert answer.json["errors"] == [
        "contest 'ward-2-council' is not on this voter's ballot; nothing was kept"]
    assert _messages(kafka_bootstrap, topic) == []
