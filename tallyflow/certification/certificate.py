"""Step 6: write the certificate, set the election certified and lock its results."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from psycopg2.extras import Json, RealDictCursor

from tallyflow import db
from tallyflow.certification.page import certificate_html
from tallyflow.certification.steps import CertificationRefused, step
from tallyflow.elections.definition import canonical_json
from tallyflow.elections.lifecycle import lock_closed, mark_certified
from tallyflow.tabulation import LOT_RULE, share
from tallyflow.votes.offsets import Offsets

CERTIFICATE_VERSION = 2  # 2: ballot styles, off-ballot marks and vote methods per contest


def existing_certificate(url: str, election_id: str) -> dict[str, Any] | None:
    """The election's certificate (sha256, time, JSON), or None before certification."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("certificate_by_election"), {"election_id": election_id})
        row = cur.fetchone()
    return dict(row) if row else None


def certificate_digest(certificate: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(certificate).encode()).hexdigest()


def build_certificate(election: Mapping[str, Any], contests: list[dict[str, Any]],
                      turnout: Mapping[str, Any], rejected: Mapping[str, int],
                      reconciliation: Mapping[str, Any], topic: str,
                      final_offsets: Mapping[Any, int],
                      data_quality: Mapping[str, Any],
                      published_feed: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The certificate's content: only facts of the count, so the same count always gives
    the same certificate and digest (the time it was issued is kept beside it), and the
    last link of the published results feed before certification (its version and chain
    hash: ``tallyflow.feeds.chain``), so the unofficial history is anchored in it."""
    return {
        "certificate_version": CERTIFICATE_VERSION,
        "election": dict(election),
        "contests": contests,
        "turnout": dict(turnout),
        "rejected_by_reason": dict(sorted(rejected.items())),
        "reconciliation": dict(reconciliation),
        "final_offsets": {"topic": topic,
                          "partitions": Offsets.from_json(final_offsets).to_json()},
        "data_quality": dict(data_quality),
        "tie_rule": LOT_RULE,
        "published_feed": dict(published_feed) if published_feed else None,
    }


def _certificate_inputs(url: str, election_id: str) -> tuple[dict, dict, dict, dict | None]:
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        params = {"election_id": election_id}
        cur.execute(db.query("certificate_election"), params)
        election = dict(cur.fetchone())
        cur.execute(db.query("recount_turnout_cells"), params)
        cells = cur.fetchall()
        cur.execute(db.query("registered_voters"), params)
        registered = cur.fetchone()["n"]
        cur.execute(db.query("rejected_by_reason"), params)
        rejected = {r["reason"]: r["n"] for r in cur.fetchall()}
        cur.execute(db.query("latest_published_snapshot"), params)
        feed = cur.fetchone()
    published = ({"version": feed["version"], "chain_sha256": feed["chain_sha256"]}
                 if feed else None)
    for key in ("opens_at", "closes_at"):
        election[key] = election[key].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ballots = sum(c["value"] for c in cells if c["metric"] == "turnout")
    turnout = {
        "ballots": ballots,
        "registered": registered,
        "turnout_percent": f"{share(ballots, registered):.2f}",
        "by_region": {c["item"]: c["value"] for c in sorted(cells, key=lambda c: c["item"])
                      if c["metric"] == "turnout"},
        "by_age_band_and_gender": {c["item"]: c["value"] for c in
                                   sorted(cells, key=lambda c: c["item"])
                                   if c["metric"] == "demographic"},
    }
    return election, turnout, rejected, published


def certify(url: str, election_id: str, *, contests: list[dict[str, Any]],
            reconciliation: Mapping[str, Any], topic: str, final_offsets: Mapping[Any, int],
            actor: str, out_dir: Path | None = None) -> dict[str, Any]:
    """Write the certificate, set the election ``certified`` and lock its results.

    ``reconciliation`` is what :func:`reconcile` returned (figures and report references).

    In the same transaction it checks that no ballot or check-in arrived since the recount
    (the election row is locked first, so none can arrive while it commits).
    """
    with step(url, election_id, "certify", actor) as detail:
        election, turnout, rejected, published = _certificate_inputs(url, election_id)
        certificate = build_certificate(
            election, contests, turnout, rejected, reconciliation["figures"], topic,
            final_offsets, {"validation_run_ids": reconciliation["validation_run_ids"],
                            "reports": reconciliation["reports"]},
            published_feed=published)
        text = canonical_json(certificate)
        digest = hashlib.sha256(text.encode()).hexdigest()
        page = certificate_html(certificate, digest)
        with db.connection(url) as conn, conn.cursor() as cur:
            lock_closed(cur, election_id)
            cur.execute(db.query("ledger_since_recount"), {"election_id": election_id})
            checkins, ballots, recounted = cur.fetchone()
            if not checkins == ballots == recounted:
                raise CertificationRefused(
                    "ballots arrived after the recount; certify again",
                    [{"check": "certify", "where": election_id,
                      "expected": f"{recounted:,} recounted ballots",
                      "found": f"{ballots:,} ballots and {checkins:,} check-ins"}])
            cur.execute(db.query("insert_certificate"), {
                "election_id": election_id, "certificate_sha256": digest,
                "canonical_json": text, "certificate": Json(certificate), "html": page,
            })
            (certified_at,) = cur.fetchone()
            mark_certified(cur, election_id)
        paths = {}
        if out_dir is not None:
            out_dir.mkdir(parents=True, exist_ok=True)
            paths = {kind: out_dir / f"{election_id}.{kind}" for kind in ("json", "html")}
            paths["json"].write_text(text + "\n", encoding="utf-8")
            paths["html"].write_text(page, encoding="utf-8")
        detail.update(certificate_sha256=digest, files={k: str(v) for k, v in paths.items()})
    return {"election_id": election_id, "certificate_sha256": digest,
            "certified_at": certified_at.isoformat(),
            "files": {k: str(v) for k, v in paths.items()}, "certificate": certificate}
