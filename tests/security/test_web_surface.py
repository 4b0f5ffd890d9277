"""The site's web surface on the real site process (gunicorn, as `tallyflow up` serves it):
response headers, and every kind of bad or abusive casting request answered 4xx with
nothing kept and nothing published."""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from dash_app.security import ClientRateLimit, client_address
from tallyflow import db
from tallyflow.kafka import ensure_topics, read_all
from tests.conftest import serve_site

PAGES = ["/", "/vote", "/verify", "/api/v1/openapi.json", "/_dash-layout",
         "/api/v1/receipts/" + "0" * 64]


@pytest.fixture(scope="module")
def site_topic(kafka_bootstrap) -> str:
    name = f"votes-{uuid.uuid4().hex[:8]}"
    ensure_topics(kafka_bootstrap, {name: 4})
    return name


@pytest.fixture(scope="module")
def site(services_env, site_topic):
    with serve_site(services_env, TALLYFLOW_VOTES_TOPIC=site_topic) as url:
        yield url


@pytest.fixture(scope="module")
def strict_site(services_env, site_topic):
    """A site that lets each client cast 4 ballots a minute (a burst of 1)."""
    with serve_site(services_env, TALLYFLOW_VOTES_TOPIC=site_topic,
                    TALLYFLOW_CAST_RATE_PER_MINUTE="4") as url:
        yield url


def _ballot(credential: str, region: str) -> dict:
    return {"credential": credential, "region_id": region,
            "contests": [{"contest_id": "mayor", "selections": ["dana-moss"]}]}


def _kept(url: str, election_id: str) -> int:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from submissions where election_id = %s", (election_id,))
        return cur.fetchone()[0]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_forbids_framing_sniffing_and_foreign_scripts(site, path):
    answer = requests.get(site + path, timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    directives = dict(d.strip().split(" ", 1) for d in policy.split(";"))
    assert directives["frame-ancestors"] == "'none'"
    assert directives["script-src"].split()[0] == "'self'"
    assert all(source.startswith("'sha256-") for source in directives["script-src"].split()[1:])
    assert directives["object-src"] == "'none'"
    assert answer.headers["X-Frame-Options"] == "DENY"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["Referrer-Policy"] == "no-referrer"
    assert answer.headers["Server"] == "gunicorn"  # not Flask's development server


def test_data_docs_are_sandboxed_without_scripts(site, services_settings):
    docs = services_settings.data_docs_dir
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "probe.html").write_text("<script src='https://cdn.example/x.js'></script>")
    answer = requests.get(f"{site}/data-docs/probe.html", timeout=10)
    policy = answer.headers["Content-Security-Policy"]
    assert policy.startswith("sandbox;")
    assert "default-src 'none'" in policy and "script-src" not in policy


def test_a_credential_not_on_the_roll_gets_403_and_nothing_is_kept_or_published(
        site, site_topic, postgres_url, kafka_bootstrap, open_election):
    election, voters = open_election
    answer = requests.post(f"{site}/api/v1/elections/{election.election_id}/ballots",
                           json=_ballot("f" * 32, voters[0][2]), timeout=10)
    assert answer.status_code == 403, answer.text
    assert answer.json()["title"] == "The credential is not on the roll"
    assert _kept(postgres_url, election.election_id) == 0
    assert read_all(kafka_bootstrap, site_topic, [0, 1, 2, 3]) == []


@pytest.mark.parametrize("case", [
    "text/plain", "form", "nested", "trailing newline", "chunked over the limit",
    "declared over the limit", "not an object", "a contest twice"])
def test_bad_casting_requests_get_4xx_and_nothing_is_kept(
        site, site_topic, postgres_url, kafka_bootstrap, open_election, case):
    election, voters = open_election
    _voter, credential, region = voters[1]
    url = f"{site}/api/v1/elections/{election.election_id}/ballots"
    good = json.dumps(_ballot(credential, region))
    expected = 400
    if case == "text/plain":  # what a cross-site form may send without a preflight
        answer = requests.post(url, data=good, headers={"Content-Type": "text/plain"})
        expected = 415
    elif case == "form":
        answer = requests.post(url, data={"credential": credential})
        expected = 415
    elif case == "nested":
        answer = requests.post(url, data="[" * 20_000 + "]" * 20_000,
                               headers={"Content-Type": "application/json"})
    elif case == "trailing newline":
        answer = requests.post(url, json=_ballot(credential + "\n", region))
    elif case == "chunked over the limit":
        def chunks():
            yield good[:-1].encode() + b', "padding": "'
            for _ in range(300):
                yield b"x" * 1024
            yield b'"}'
        answer = requests.post(url, data=chunks(), headers={"Content-Type": "application/json"})
        expected = 413
    elif case == "declared over the limit":
        answer = requests.post(url, data=b"{" + b" " * 70_000 + b"}",
                               headers={"Content-Type": "application/json"})
        expected = 413
    elif case == "a contest twice":  # the tally would reject it as malformed
        ballot = _ballot(credential, region)
        ballot["contests"] *= 2
        answer = requests.post(url, json=ballot)
    else:
        answer = requests.post(url, json=[good])
    assert answer.status_code == expected, answer.text
    assert answer.headers["Content-Type"].startswith("application/problem+json")
    assert _kept(postgres_url, election.election_id) == 0
    assert read_all(kafka_bootstrap, site_topic, [0, 1, 2, 3]) == []


def test_the_dash_callback_endpoint_has_a_body_limit_too(site):
    answer = requests.post(f"{site}/_dash-update-component", timeout=10,
                           data=b"{" + b" " * 300_000 + b"}",
                           headers={"Content-Type": "application/json"})
    assert answer.status_code == 413


def test_a_client_casting_too_fast_gets_429_with_retry_after(
        strict_site, postgres_url, open_election):
    election, voters = open_election
    url = f"{strict_site}/api/v1/elections/{election.election_id}/ballots"
    first = requests.post(url, json=_ballot(voters[5][1], voters[5][2]), timeout=10)
    second = requests.post(url, json=_ballot(voters[6][1], voters[6][2]), timeout=10)
    assert first.status_code == 202, first.text
    assert second.status_code == 429
    assert 1 <= int(second.headers["Retry-After"]) <= 15
    assert _kept(postgres_url, election.election_id) == 1


@pytest.mark.fast
def test_the_rate_limit_refills_at_its_rate_and_keeps_clients_apart():
    now = [0.0]
    limit = ClientRateLimit(per_minute=120, clock=lambda: now[0])  # 2/s, bursts of 30
    assert [limit.wait("a") for _ in range(30)] == [0] * 30
    assert limit.wait("a") == 1
    assert limit.wait("b") == 0  # another client has its own bucket
    now[0] += 0.5
    assert limit.wait("a") == 0  # one more after half a second
    assert limit.wait("a") == 1


@pytest.fixture(scope="module")
def proxied_site(services_env, site_topic):
    """The strict site behind a reverse proxy on this machine it trusts."""
    with serve_site(services_env, TALLYFLOW_VOTES_TOPIC=site_topic,
                    TALLYFLOW_CAST_RATE_PER_MINUTE="4",
                    TALLYFLOW_TRUSTED_PROXIES="127.0.0.1, ::1") as url:
        yield url


def test_a_forwarded_address_counts_only_from_a_trusted_proxy(
        strict_site, proxied_site, postgres_url, open_election):
    election, voters = open_election
    path = f"/api/v1/elections/{election.election_id}/ballots"

    def cast(site: str, voter: int, forwarded: str) -> int:
        return requests.post(f"{site}{path}", json=_ballot(voters[voter][1], voters[voter][2]),
                             headers={"X-Forwarded-For": forwarded}, timeout=10).status_code

    # No proxy trusted: a forged header dodges nothing (one bucket for the peer, which an
    # earlier test may have emptied already).
    first = cast(strict_site, 20, "198.51.100.1")
    assert first in (202, 429) and cast(strict_site, 21, "198.51.100.2") == 429
    # Behind the trusted proxy each voter has a bucket of their own, and what a client
    # writes in front of the proxy's own entry is not believed.
    assert cast(proxied_site, 22, "203.0.113.7") == 202
    assert cast(proxied_site, 23, "203.0.113.8") == 202
    assert cast(proxied_site, 24, "10.9.9.9, 203.0.113.7") == 429
    assert _kept(postgres_url, election.election_id) == 2 + (first == 202)


@pytest.mark.fast
def test_the_client_address_is_the_peer_unless_a_trusted_proxy_forwards_one():
    trusted = ("127.0.0.1/32", "10.0.0.0/8")
    assert client_address("192.0.2.1", "203.0.113.7", ()) == "192.0.2.1"
    assert client_address("192.0.2.1", "203.0.113.7", trusted) == "192.0.2.1"
    assert client_address("127.0.0.1", "203.0.113.7", trusted) == "203.0.113.7"
    # Right to left past every trusted hop; a forged left part is not believed.
    assert client_address("127.0.0.1", "6.6.6.6, 203.0.113.7, 10.1.2.3", trusted) \
        == "203.0.113.7"
    assert client_address("127.0.0.1", None, trusted) == "127.0.0.1"
