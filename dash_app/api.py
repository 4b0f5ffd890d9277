"""The HTTP API beside the results site: casting ballots and looking up receipts.

Routes (described in ``docs/openapi.yaml``, served at ``/api/v1/openapi.json``):

- ``POST /api/v1/elections/{election_id}/ballots``: 202 with a receipt; 400, 403, 404,
  409, 413, 415, 422 (a contest not on the voter's ballot), 429 (with ``Retry-After``).
- ``POST /api/v1/elections/{election_id}/ballot-style`` with ``{"credential": ...}``: the
  contests on that voter's ballot; 400, 403, 404, 413, 415, 429.
- ``GET /api/v1/receipts/{receipt}``: whether that ballot was counted.
- ``GET /api/v1/elections/{election_id}/results`` (JSON; ``?level=precinct`` adds every
  contest precinct by precinct) and ``.../results.csv``: the results the site shows, from
  the same queries (``dash_app.results``); ``.../results.precincts.csv``: precinct results
  in OpenElections' columns (``dash_app.precincts``); ``.../results.nist.json``: a NIST SP
  1500-100 v2 Election Results Reporting document (``tallyflow.feeds.nist``).
- ``GET /api/v1/elections/{election_id}/feed`` and ``.../feed/{version}``: every state of
  the results export the site published, chained by SHA-256 (``tallyflow.feeds``).
- ``GET /api/v1/elections/{election_id}/certificate``: the certificate's canonical JSON
  (its SHA-256 is the digest the site shows); ``.../certificate.html`` the readable page.

The logic lives in ``tallyflow.votes.casting``; this module only speaks HTTP.
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path

from flask import Blueprint, Response, has_request_context, request

from dash_app.security import ClientRateLimit, client_address
from tallyflow.settings import get_settings
from tallyflow.votes import casting

OPENAPI_PATH = Path(__file__).resolve().parent.parent / "docs" / "openapi.yaml"
MAX_BALLOT_BYTES = 64 * 1024

api = Blueprint("api", __name__, url_prefix="/api/v1")
log = logging.getLogger(__name__)


@functools.cache
def _caster() -> casting.Caster:
    settings = get_settings()
    return casting.Caster(settings.database_url, settings.kafka_bootstrap,
                          settings.votes_topic)


@functools.cache
def _rate_limit() -> ClientRateLimit:
    return ClientRateLimit(get_settings().cast_rate_per_minute)


@functools.cache
def _style_rate_limit() -> ClientRateLimit:
    """Ballot-style look-ups, as many as ballots but counted apart: a voter looks up their
    ballot, then casts it."""
    return ClientRateLimit(get_settings().cast_rate_per_minute)


def _client() -> str:
    """Who is casting, for the rate limit: the peer's address, or the one a trusted proxy
    forwards (``client_address``)."""
    if not has_request_context():
        return "local"
    return client_address(request.remote_addr, request.headers.get("X-Forwarded-For"),
                          get_settings().trusted_proxies) or "local"


def _json(answer: casting.Answer, headers: dict[str, str] | None = None) -> Response:
    kind = "application/problem+json" if answer.status >= 400 else "application/json"
    return Response(json.dumps(answer.body), status=answer.status, mimetype=kind,
                    headers=headers)


def _too_large() -> casting.Answer:
    return casting.Answer(413, {"status": 413, "title": "The ballot is too large",
                                "errors": [f"at most {MAX_BALLOT_BYTES} bytes"]})


def _too_fast(seconds: int) -> casting.Answer:
    return casting.Answer(429, {"status": 429, "title": "Too many ballots from this client",
                                "errors": [f"retry in {seconds} s"]})


@api.errorhandler(413)
def _body_over_the_site_limit(_error) -> Response:
    return _json(_too_large())


def _json_body(limit: ClientRateLimit) -> bytes | Response:
    """The request's JSON body, or the answer refusing it: too many requests from this
    client (429), not JSON (415) or too large (413)."""
    wait = limit.wait(_client())
    if wait:
        return _json(_too_fast(wait), headers={"Retry-After": str(wait)})
    if request.mimetype != "application/json":
        # Only JSON: a form or text/plain POST from another site needs no preflight.
        return _json(casting.Answer(415, {
            "status": 415, "title": "A ballot is sent as application/json",
            "errors": [f"Content-Type is {request.mimetype or 'missing'!r}"]}))
    if request.content_length is not None and request.content_length > MAX_BALLOT_BYTES:
        return _json(_too_large())
    body = request.get_data(cache=False)  # chunked: the site's MAX_CONTENT_LENGTH holds
    if len(body) > MAX_BALLOT_BYTES:
        return _json(_too_large())
    return body


@api.post("/elections/<election_id>/ballots")
def cast_ballot(election_id: str) -> Response:
    body = _json_body(_rate_limit())
    if isinstance(body, Response):
        return body
    return _json(_caster().cast(election_id, body))


@api.post("/elections/<election_id>/ballot-style")
def ballot_style(election_id: str) -> Response:
    """The contests on the ballot of the voter whose credential the body names."""
    body = _json_body(_style_rate_limit())
    if isinstance(body, Response):
        return body
    try:
        credential = json.loads(body).get("credential")
    except (ValueError, AttributeError, RecursionError):
        return _bad_request("Not a credential",
                            'the body is a JSON object: {"credential": "<32 hex characters>"}')
    return _json(casting.ballot_style(get_settings().database_url, election_id, credential))


def receipt_answer(receipt: str) -> tuple[int, dict]:
    """``GET /receipts/{receipt}``'s status and body, for the site's verify page too."""
    answer = casting.receipt_status(get_settings().database_url, receipt)
    return answer.status, answer.body


def ballot_style_answer(election_id: str, credential: str) -> tuple[int, dict]:
    """``POST /elections/{id}/ballot-style``'s status and body, for the site's vote page."""
    wait = _style_rate_limit().wait(_client())
    if wait:
        return 429, _too_fast(wait).body
    answer = casting.ballot_style(get_settings().database_url, election_id, credential)
    return answer.status, answer.body


def cast_answer(election_id: str, ballot: dict) -> tuple[int, dict]:
    """``POST /elections/{id}/ballots``'s status and body, for the site's vote page too."""
    wait = _rate_limit().wait(_client())
    if wait:
        return 429, _too_fast(wait).body
    answer = _caster().cast(election_id, ballot)
    return answer.status, answer.body


@api.get("/receipts/<receipt>")
def receipt(receipt: str) -> Response:
    return _json(casting.Answer(*receipt_answer(receipt)))


def _certificate(election_id: str):
    from tallyflow.certification.certificate import existing_certificate

    return existing_certificate(get_settings().site_database_url, election_id)


def _not_certified(election_id: str) -> Response:
    return _json(casting.Answer(404, {
        "status": 404, "title": "No certificate",
        "errors": [f"election {election_id!r} does not exist or is not certified yet"]}))


@api.get("/elections/<election_id>/certificate")
def certificate(election_id: str) -> Response:
    found = _certificate(election_id)
    if found is None:
        return _not_certified(election_id)
    return Response(found["canonical_json"], mimetype="application/json",
                    headers={"X-Certificate-SHA256": found["certificate_sha256"]})


@api.get("/elections/<election_id>/certificate.html")
def certificate_page(election_id: str) -> Response:
    found = _certificate(election_id)
    if found is None:
        return _not_certified(election_id)
    return Response(found["html"], mimetype="text/html")


def _raw_results(election_id: str) -> tuple[dict, dict] | None:
    """(what the aggregates hold, the results export) of one election; None if unknown."""
    from dash_app.results import (
        UnknownElection,
        is_election_id,
        load_results,
        results_document,
    )

    if not is_election_id(election_id):
        return None
    settings = get_settings()
    try:
        raw = load_results(settings.site_database_url, election_id, settings.votes_topic,
                           with_map=False)
    except UnknownElection:
        return None
    return raw, results_document(raw)


def _results(election_id: str) -> dict | None:
    found = _raw_results(election_id)
    return None if found is None else found[1]


def _with_precincts(election_id: str) -> tuple[dict, dict, list, dict] | None:
    """The results, and every contest precinct by precinct (``dash_app.precincts``)."""
    from dash_app.precincts import load_precinct_facts, precinct_results

    found = _raw_results(election_id)
    if found is None:
        return None
    raw, document = found
    facts = load_precinct_facts(get_settings().site_database_url, election_id)
    return raw, document, precinct_results(raw, document, facts), facts


def _no_election(election_id: str) -> Response:
    return _json(casting.Answer(404, {"status": 404, "title": "No such election",
                                      "errors": [f"no election with id {election_id!r}"]}))


LEVELS = ("election", "precinct")


@api.get("/elections/<election_id>/results")
def results(election_id: str) -> Response:
    """The results export, published: its version in ``X-Feed-Version``, an ``ETag`` (304
    for ``If-None-Match``), and with ``?since=VERSION`` only what changed since then."""
    level = request.args.get("level", "election")
    if level not in LEVELS:
        return _bad_request("Unknown level",
                            f"level must be one of {', '.join(LEVELS)}, not {level!r}")
    since = request.args.get("since")
    if since is not None and (not since.isdigit() or int(since) < 1):
        return _bad_request("Bad version", f"since must be a version number, not {since!r}")
    found = _with_precincts(election_id) if level == "precinct" else _raw_results(election_id)
    if found is None:
        return _no_election(election_id)
    document = found[1]
    published = _publish(election_id, document)
    headers = {"ETag": published.etag, "X-Feed-Version": str(published.version),
               "X-Feed-Chain-SHA256": published.chain_sha256}
    if request.if_none_match.contains(published.etag.strip('"')):
        return Response(status=304, headers=headers)
    if since is not None:
        return _changes_since(election_id, int(since), document, published, headers)
    if level == "precinct":
        document = {**document, "precincts": found[2]}
    return Response(json.dumps(document, default=str), mimetype="application/json",
                    headers=headers)


def _bad_request(title: str, error: str) -> Response:
    return _json(casting.Answer(400, {"status": 400, "title": title, "errors": [error]}))


def _publish(election_id: str, document: dict):
    from tallyflow.feeds.publish import publish

    return publish(get_settings().site_database_url, election_id, document)


def _changes_since(election_id: str, since: int, document: dict, published,
                   headers: dict) -> Response:
    """RFC 6902 operations from a published version to the current one."""
    from tallyflow.feeds.chain import json_patch
    from tallyflow.feeds.publish import snapshot

    old = snapshot(get_settings().site_database_url, election_id, since)
    if old is None:
        return _json(casting.Answer(404, {
            "status": 404, "title": "No such version",
            "errors": [f"election {election_id!r} never published version {since}"]}))
    current = json.loads(json.dumps(document, default=str))
    return Response(json.dumps({"election_id": election_id, "since": since,
                                "version": published.version,
                                "changes": json_patch(old["document"], current)}),
                    mimetype="application/json", headers=headers)


@api.get("/elections/<election_id>/feed")
def feed_history(election_id: str) -> Response:
    """Every published version: time, content hash, previous and chain hashes."""
    from dash_app.results import is_election_id
    from tallyflow.feeds.publish import history

    if not is_election_id(election_id):
        return _no_election(election_id)
    versions = history(get_settings().site_database_url, election_id)
    if not versions and _results(election_id) is None:
        return _no_election(election_id)
    return Response(json.dumps({"election_id": election_id, "versions": versions},
                               default=str), mimetype="application/json")


@api.get("/elections/<election_id>/feed/<int:version>")
def feed_version(election_id: str, version: int) -> Response:
    """One published version's content: the exact bytes its content hash covers."""
    from dash_app.results import is_election_id
    from tallyflow.feeds.publish import snapshot

    found = snapshot(get_settings().site_database_url, election_id, version) \
        if is_election_id(election_id) else None
    if found is None:
        return _json(casting.Answer(404, {
            "status": 404, "title": "No such version",
            "errors": [f"election {election_id!r} has no published version {version}"]}))
    return Response(found["content"], mimetype="application/json", headers={
        "X-Content-SHA256": found["content_sha256"],
        "X-Previous-SHA256": found["previous_sha256"],
        "X-Chain-SHA256": found["chain_sha256"]})


@api.get("/elections/<election_id>/results.csv")
def results_csv(election_id: str) -> Response:
    from dash_app.results import results_csv

    document = _results(election_id)
    if document is None:
        return _no_election(election_id)
    return Response(results_csv(document), mimetype="text/csv", headers={
        "Content-Disposition": f"attachment; filename={election_id}-results.csv"})


@api.get("/elections/<election_id>/results.precincts.csv")
def precincts_csv(election_id: str) -> Response:
    from dash_app.precincts import openelections_csv

    found = _with_precincts(election_id)
    if found is None:
        return _no_election(election_id)
    _raw, document, precincts, facts = found
    return Response(openelections_csv(document, precincts, facts), mimetype="text/csv",
                    headers={"Content-Disposition":
                             f"attachment; filename={election_id}-precincts.csv"})


@api.get("/elections/<election_id>/results.nist.json")
def results_nist(election_id: str) -> Response:
    from datetime import UTC, datetime

    from tallyflow.feeds.nist import election_report

    found = _with_precincts(election_id)
    if found is None:
        return _no_election(election_id)
    raw, document, precincts, facts = found
    report = election_report(raw, document, precincts, facts,
                             generated_at=datetime.now(UTC))
    return Response(json.dumps(report), mimetype="application/json")


@api.get("/openapi.json")
def openapi() -> Response:
    import yaml

    return Response(json.dumps(yaml.safe_load(OPENAPI_PATH.read_text())),
                    mimetype="application/json")
