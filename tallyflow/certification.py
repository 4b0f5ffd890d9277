"""Certifying an election: close, drain, recount, reconcile, tabulate, certify and lock.

Each step is a function here. The ``certify_election`` DAG runs each as its own task and
``tallyflow certify`` runs them in a row (:func:`certify_election`). The recount is a
Spark job (``jobs/recount_election.py``); everything else needs only Postgres, the broker
and Great Expectations. Every step records an audit entry: who, when, and how it went.

A discrepancy stops certification with a report naming each check, what was expected,
what was found and where; the election then stays ``closed`` and, once the cause is
fixed, certification can run again. Certifying a certified election changes nothing and
reports the certificate it already has.
"""

from __future__ import annotations

import contextlib
import hashlib
import html
import json
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from psycopg2.extras import Json, RealDictCursor

from tallyflow import db
from tallyflow.elections.store import ElectionError, ElectionNotReady, UnknownElection, record_audit
from tallyflow.votes.secrecy import DEFAULT_BALLOT_GROUP

CERTIFICATE_VERSION = 1
DATA_SOURCE = "certification"
SUITE_PREFIX = "certify."
LOT_RULE = (
    "Tied options are ordered by SHA-256(seed + '|' + option_id), lowest first, where seed = "
    "SHA-256('tallyflow-lot|' + roll fingerprint + '|' + contest_id); the first ones in that "
    "order take the seats left."
)
THRESHOLD_RULE = (
    "A yes/no question passes when its yes votes are at least the threshold share of the "
    "yes and no votes; an exact tie never passes."
)


class CertificationRefused(ElectionError):
    """Certification stopped; ``discrepancies`` says what did not hold (check, where,
    expected, found)."""

    def __init__(self, message: str, discrepancies: list[dict[str, Any]] | None = None) -> None:
        self.discrepancies = discrepancies or []
        lines = [message] + [
            f"  - {d['check']}: {d['where']}: expected {d['expected']}, found {d['found']}"
            for d in self.discrepancies
        ]
        super().__init__("\n".join(lines))


@contextlib.contextmanager
def audited(url: str, election_id: str, step: str, actor: str) -> Iterator[dict[str, Any]]:
    """Record the step's outcome in the audit log: ``ok`` with what it put in the yielded
    dict, or ``refused`` / ``failed`` with why."""
    detail: dict[str, Any] = {}
    started = time.perf_counter()
    try:
        yield detail
    except CertificationRefused as err:
        _audit(url, election_id, step, actor, "refused",
               {"error": str(err), "discrepancies": err.discrepancies})
        raise
    except Exception as err:
        _audit(url, election_id, step, actor, "failed", {"error": f"{type(err).__name__}: {err}"})
        raise
    detail.setdefault("seconds", round(time.perf_counter() - started, 3))
    _audit(url, election_id, step, actor, "ok", detail)


def _audit(url: str, election_id: str, step: str, actor: str, outcome: str,
           detail: dict[str, Any]) -> None:
    with db.connection(url) as conn, conn.cursor() as cur:
        record_audit(cur, election_id, SUITE_PREFIX + step, actor, outcome,
                     json.loads(json.dumps(detail, default=str)))


# -- 1. close -----------------------------------------------------------------------------


def existing_certificate(url: str, election_id: str) -> dict[str, Any] | None:
    """The election's certificate (sha256, time, JSON), or None before certification."""
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(db.query("certificate_by_election"), {"election_id": election_id})
        row = cur.fetchone()
    return dict(row) if row else None


def close_election(url: str, election_id: str, *, actor: str) -> dict[str, Any]:
    """Close an open election now (or confirm it is closed).

    From then on the casting API answers 409 and the tally rejects ballots received later
    as ``closed``. Returns ``{"status", "closes_at"}``; a certified election comes back as
    ``certified`` untouched.
    """
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select status, closes_at from elections where election_id = %s",
                    (election_id,))
        row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    status, closes_at = row
    if status == "certified":
        return {"status": status, "closes_at": closes_at.isoformat()}
    with audited(url, election_id, "close", actor) as detail:
        if status not in ("open", "closed"):
            raise ElectionNotReady(
                f"election {election_id!r} is {status}: only an open or closed election "
                f"can be certified")
        if status == "open":
            with db.connection(url) as conn, conn.cursor() as cur:
                cur.execute(db.query("close_election"), {"election_id": election_id})
                moved = cur.fetchone()
            if moved is None:
                raise ElectionNotReady(f"election {election_id!r} changed status while closing")
            closes_at = moved[0]
        detail.update(was=status, closes_at=closes_at.isoformat())
    return {"status": "closed", "closes_at": closes_at.isoformat()}


def due_elections(url: str) -> list[str]:
    """Elections to certify now: open past their closing time, or closed and not refused."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("closed_elections_due"))
        return [row[0] for row in cur.fetchall()]


# -- 2. drain -----------------------------------------------------------------------------


def drain(url: str, election_id: str, bootstrap: str, topic: str, partitions: list[int],
          run_tally: Callable[[], object], *, actor: str, timeout: float = 900.0,
          say: Callable[[str], None] = print) -> dict[int, int]:
    """Tally until every partition is read to the end it had when the drain began.

    ``run_tally`` runs micro-batches until the topic is drained; when another tally holds
    the tally lock it returns at once and the drain waits for that one to catch up.
    Returns the final offsets (next offset to read, per partition).
    """
    from tallyflow.kafka import partition_ends, topic_partitions
    from tallyflow.votes import ledger, outbox

    with audited(url, election_id, "drain", actor) as detail:
        # Every receipted ballot in the broker first: the ends below then cover them all.
        publisher = outbox.Publisher(url, bootstrap, topic)
        try:
            relayed = outbox.relay(url, publisher, grace_seconds=0.0)
        finally:
            publisher.close()
        if relayed.unpublished:
            raise CertificationRefused(
                f"the broker did not take {relayed.unpublished:,} receipted ballot(s) from "
                "the outbox", [{"check": "outbox", "where": topic,
                                "expected": "every receipted ballot published",
                                "found": f"{relayed.unpublished:,} unpublished"}])
        if relayed.published:
            say(f"outbox: published {relayed.published:,} receipted ballot(s) first")
        # Partitions added to the topic since the settings were written are drained too.
        partitions = sorted(set(partitions) | set(range(topic_partitions(bootstrap)[topic])))
        ends = partition_ends(bootstrap, topic, partitions)
        say(f"draining {topic}: reading every partition to {ends}")
        deadline = time.monotonic() + timeout
        while True:
            run_tally()
            committed = ledger.committed_offsets(url, topic, partitions)
            behind = sum(max(0, ends[p] - committed[p]) for p in partitions)
            if not behind:
                break
            if time.monotonic() > deadline:
                raise CertificationRefused(
                    f"the tally did not drain {topic} within {timeout:.0f} s",
                    [{"check": "drain", "where": topic, "expected": "0 events behind",
                      "found": f"{behind:,} events behind"}])
            say(f"{behind:,} events not tallied yet; waiting for the running tally")
            time.sleep(1.0)
        outbox.settle(url, topic)
        detail.update(topic=topic, final_offsets={str(p): o for p, o in committed.items()})
    return committed


# -- 4. reconcile -------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One reconciliation check: its frame's column pair, how they must compare, and the
    columns that say where a row is."""

    name: str
    description: str
    kind: str  # equal | at_least
    column_a: str
    column_b: str
    where: tuple[str, ...]

    def expectation(self):
        from tallyflow.quality import pair_expectation

        return pair_expectation(self.kind, self.column_a, self.column_b, self.description)

    def discrepancies(self, frame) -> list[dict[str, Any]]:
        a, b = frame[self.column_a], frame[self.column_b]
        bad = frame[(a != b) if self.kind == "equal" else (a < b)]
        return [
            {
                "check": self.name,
                "where": " ".join(str(row[c]) for c in self.where),
                "expected": (f"{self.column_a} = {self.column_b} ({row[self.column_b]})"
                             if self.kind == "equal" else
                             f"{self.column_a} ({row[self.column_a]}) ≥ {self.column_b}"),
                "found": (f"{self.column_a} {row[self.column_a]}" if self.kind == "equal"
                          else f"{self.column_b} {row[self.column_b]}"),
            }
            for _, row in bad.iterrows()
        ]


CHECKS = (
    Check("recount", "recount = live aggregates, cell by cell", "equal", "recount", "live",
          ("metric", "item")),
    Check("ledger", "counted ballots = check-ins", "equal", "ballots", "checkins",
          ("region_id",)),
    Check("partitions", "counted + rejected = events consumed, per partition", "equal",
          "accounted", "consumed", ("partition",)),
    Check("turnout", "turnout ≤ registered, per region", "at_least", "registered", "ballots",
          ("region_id",)),
    Check("outbox", "every receipted ballot was counted or rejected", "equal", "settled",
          "required", ("event_id", "receipt")),
    Check("roll", "the voter roll is unchanged since opening", "equal", "current", "frozen",
          ("what",)),
    Check("quality", "the latest data-quality checks passed", "equal", "status", "required",
          ("what",)),
)


def reconciliation_frames(url: str, election_id: str, topic: str,
                          final_offsets: Mapping[int, int], quality_status: str) -> dict:
    """Each check's frame, read in one snapshot."""
    import pandas as pd
    import psycopg2.extensions

    from tallyflow.registrations.roll import roll_fingerprint
    from tallyflow.votes import outbox

    params = {"election_id": election_id, "topic": topic,
              "partitions": sorted(int(p) for p in final_offsets)}
    frames = {}
    with db.connection(url) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor() as cur:
            for name in ("recount", "ledger", "partitions", "turnout"):
                cur.execute(db.query(f"reconcile_{'cells' if name == 'recount' else name}"),
                            params)
                frames[name] = pd.DataFrame(cur.fetchall(),
                                            columns=[c.name for c in cur.description])
            cur.execute("select roll_fingerprint from elections where election_id = %s",
                        (election_id,))
            (frozen,) = cur.fetchone()
    unsettled = outbox.unsettled(url, election_id)
    frames["outbox"] = pd.DataFrame(
        [{"event_id": str(row["event_id"]), "receipt": row["receipt"], "settled": 0,
          "required": 1} for row in unsettled],
        columns=["event_id", "receipt", "settled", "required"]).astype(
        {"settled": "int64", "required": "int64"})
    partitions = frames["partitions"]
    partitions["accounted"] = partitions["accepted"] + partitions["rejected"]
    frames["roll"] = pd.DataFrame([{"what": "roll fingerprint", "frozen": frozen or "",
                                    "current": roll_fingerprint(url, election_id)}])
    frames["quality"] = pd.DataFrame([{"what": "tally data-quality gate",
                                       "status": quality_status, "required": "ok"}])
    for frame in frames.values():
        for column in frame.columns:
            if frame[column].dtype == object and column not in ("what", "metric", "item",
                                                                "region_id", "frozen",
                                                                "current", "status",
                                                                "required", "event_id",
                                                                "receipt"):
                frame[column] = frame[column].astype("int64")
    return frames


def reconcile(url: str, election_id: str, topic: str, final_offsets: Mapping[int, int], *,
              project_dir: Path | None, actor: str) -> dict[str, Any]:
    """Run the reconciliation suite; raise :class:`CertificationRefused` on any discrepancy.

    It first runs the tally's data-quality gate once more, so "the latest checks passed"
    is about the drained state. Returns the figures each check compared and the reports.
    """
    from tallyflow.quality import record_validation_runs, run_suites
    from tallyflow.votes.quality import check_aggregates

    with audited(url, election_id, "reconcile", actor) as detail:
        verdict = check_aggregates(url, election_id, topic, project_dir)
        frames = reconciliation_frames(url, election_id, topic, final_offsets, verdict.status)
        results = run_suites(project_dir, DATA_SOURCE, election_id,
                             {c.name: (frames[c.name], [c.expectation()]) for c in CHECKS})
        run_ids = record_validation_runs(url, election_id, results, suite_prefix=SUITE_PREFIX)
        discrepancies = [d for c in CHECKS for d in c.discrepancies(frames[c.name])]
        failed_suites = {r.suite_name for r in results if not r.is_passed}
        if failed_suites - {d["check"] for d in discrepancies}:  # GX saw what pandas did not
            discrepancies += [{"check": name, "where": "(see the report)",
                               "expected": "the suite to pass", "found": "it failed"}
                              for name in sorted(failed_suites)]
        figures = _figures(frames)
        reports = {SUITE_PREFIX + r.suite_name: r.report_path for r in results if r.report_path}
        reports.update({"tally." + name: path for name, path in verdict.report_paths.items()})
        detail.update(figures=figures, validation_run_ids=run_ids, reports=reports)
        if discrepancies:
            detail["discrepancies"] = discrepancies
            raise CertificationRefused(
                f"certification of {election_id!r} refused: {len(discrepancies)} "
                f"discrepanc{'y' if len(discrepancies) == 1 else 'ies'}", discrepancies)
    return {"figures": figures, "validation_run_ids": run_ids, "reports": reports}


def _figures(frames) -> dict[str, Any]:
    """The numbers each check compared, for the certificate (small, JSON-ready)."""
    recount = frames["recount"]
    ledger = frames["ledger"]
    return {
        "recount": {
            "cells_compared": len(recount),
            "cells_differing": int((recount["live"] != recount["recount"]).sum()),
        },
        "ledger": {row.region_id: {"ballots": int(row.ballots), "checkins": int(row.checkins)}
                   for row in ledger.itertuples()},
        "partitions": {str(row.partition): {"counted": int(row.accepted),
                                            "rejected": int(row.rejected),
                                            "consumed": int(row.consumed)}
                       for row in frames["partitions"].itertuples()},
        "turnout": {row.region_id: {"registered": int(row.registered),
                                    "ballots": int(row.ballots)}
                    for row in frames["turnout"].itertuples()},
        "roll_fingerprint_unchanged": bool(
            (frames["roll"]["frozen"] == frames["roll"]["current"]).all()),
        "data_quality": frames["quality"]["status"].iloc[0],
        "receipted_ballots_unsettled": len(frames["outbox"]),
    }


# -- 5. tabulate --------------------------------------------------------------------------


def lot_order(roll_fingerprint: str, contest_id: str, option_ids: list[str]) -> list[str]:
    """The tied options in the order the seeded lot draws them (see ``LOT_RULE``)."""
    seed = hashlib.sha256(f"tallyflow-lot|{roll_fingerprint}|{contest_id}".encode()).hexdigest()
    return sorted(option_ids,
                  key=lambda o: (hashlib.sha256(f"{seed}|{o}".encode()).hexdigest(), o))


def elect(contest_id: str, votes: Mapping[str, int], seats: int,
          roll_fingerprint: str) -> tuple[list[str], dict[str, Any] | None]:
    """The ``seats`` options with most votes, and the tie broken by lot if one decides a
    seat (None when none does)."""
    ranked = sorted(votes, key=lambda o: -votes[o])
    if len(ranked) <= seats:
        return ranked, None
    cutoff = votes[ranked[seats - 1]]
    above = [o for o in ranked if votes[o] > cutoff]
    tied = sorted(o for o in ranked if votes[o] == cutoff)
    seats_left = seats - len(above)
    if len(tied) <= seats_left:
        return above + tied, None
    drawn = lot_order(roll_fingerprint, contest_id, tied)
    tie = {
        "options": tied,
        "votes": cutoff,
        "seats": seats_left,
        "rule": LOT_RULE,
        "seed": hashlib.sha256(
            f"tallyflow-lot|{roll_fingerprint}|{contest_id}".encode()).hexdigest(),
        "draw": drawn,
        "won": drawn[:seats_left],
    }
    return above + drawn[:seats_left], tie


def tabulate(url: str, election_id: str, *, actor: str) -> list[dict[str, Any]]:
    """Each contest's result from the recount: votes, shares and winners (or, for yes/no,
    whether it passes). A ranked contest stops certification until ranked tabulation
    exists."""
    with audited(url, election_id, "tabulate", actor) as detail:
        with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
            cur.execute(db.query("certification_contests"), {"election_id": election_id})
            rows = cur.fetchall()
            cur.execute("select roll_fingerprint from elections where election_id = %s",
                        (election_id,))
            (fingerprint,) = cur.fetchone().values()
            cur.execute("select metric, item, value from recount_cells "
                        "where election_id = %s and metric like 'contest\\_%%'",
                        (election_id,))
            marks = {(r["metric"], r["item"]): r["value"] for r in cur.fetchall()}
        contests: dict[str, dict[str, Any]] = {}
        for row in rows:
            contest = contests.setdefault(row["contest_id"], {
                "contest_id": row["contest_id"], "title": row["title"], "kind": row["kind"],
                "seats": row["seats"], "threshold": row["threshold"], "options": [],
            })
            if row["option_id"] is not None:
                contest["options"].append({"option_id": row["option_id"], "name": row["name"],
                                           "party_id": row["party_id"],
                                           "votes": int(row["votes"])})
        ranked = [c["contest_id"] for c in contests.values() if c["kind"] == "ranked"]
        if ranked:
            raise CertificationRefused(
                f"election {election_id!r} has ranked contests ({', '.join(ranked)}); "
                "ranked tabulation comes in a later release, so it cannot be certified yet")
        results = [_contest_result(c, marks, fingerprint or "") for c in contests.values()]
        detail.update(contests=len(results), ties=[r["contest_id"] for r in results
                                                   if r["tie"]])
    return results


def _contest_result(contest: dict[str, Any], marks: Mapping[tuple[str, str], int],
                    fingerprint: str) -> dict[str, Any]:
    cid = contest["contest_id"]
    votes = {o["option_id"]: o["votes"] for o in contest["options"]}
    total = sum(votes.values())
    result = {
        **contest,
        "ballots": int(marks.get(("contest_ballots", cid), 0)),
        "blank_ballots": int(marks.get(("contest_blank", cid), 0)),
        "undervoted_ballots": int(marks.get(("contest_undervote", cid), 0)),
        "overvoted_ballots": int(marks.get(("contest_overvote", cid), 0)),
        "total_votes": total,
        "tie": None,
    }
    for option in result["options"]:
        option["share_percent"] = f"{100 * option['votes'] / total:.2f}" if total else "0.00"
    if contest["kind"] == "yes_no":
        yes, no = votes.get("yes", 0), votes.get("no", 0)
        threshold = Fraction(contest["threshold"] or "1/2")
        passes = yes != no and yes * threshold.denominator >= threshold.numerator * (yes + no)
        passes = passes and yes + no > 0
        result.update(passes=passes, winners=["yes" if passes else "no"],
                      rule=THRESHOLD_RULE, threshold=str(threshold))
        return result
    winners, tie = elect(cid, votes, contest["seats"], fingerprint)
    result.update(winners=winners, tie=tie)
    return result


# -- 6. certify ---------------------------------------------------------------------------


def canonical_json(certificate: Mapping[str, Any]) -> str:
    """The one text of a certificate its digest is taken over: sorted keys, no spaces."""
    return json.dumps(certificate, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def certificate_digest(certificate: Mapping[str, Any]) -> str:
    return hashlib.sha256(canonical_json(certificate).encode()).hexdigest()


def build_certificate(election: Mapping[str, Any], contests: list[dict[str, Any]],
                      turnout: Mapping[str, Any], rejected: Mapping[str, int],
                      reconciliation: Mapping[str, Any], topic: str,
                      final_offsets: Mapping[Any, int],
                      data_quality: Mapping[str, Any]) -> dict[str, Any]:
    """The certificate's content: only facts of the count, so the same count always gives
    the same certificate and digest (the time it was issued is kept beside it)."""
    return {
        "certificate_version": CERTIFICATE_VERSION,
        "election": dict(election),
        "contests": contests,
        "turnout": dict(turnout),
        "rejected_by_reason": dict(sorted(rejected.items())),
        "reconciliation": dict(reconciliation),
        "final_offsets": {"topic": topic,
                          "partitions": {str(p): int(o) for p, o in
                                         sorted(final_offsets.items(), key=lambda i: int(i[0]))}},
        "data_quality": dict(data_quality),
        "tie_rule": LOT_RULE,
    }


def _certificate_inputs(url: str, election_id: str) -> tuple[dict, dict, dict]:
    with db.connection(url) as conn, conn.cursor(cursor_factory=RealDictCursor) as cur:
        cur.execute(
            "select election_id, title, opens_at, closes_at, is_test, definition_sha256, "
            "roll_fingerprint from elections where election_id = %s", (election_id,))
        election = dict(cur.fetchone())
        cur.execute("select metric, item, value from recount_cells where election_id = %s "
                    "and metric in ('turnout', 'demographic')", (election_id,))
        cells = cur.fetchall()
        cur.execute("select count(*) as n from voters where election_id = %s", (election_id,))
        registered = cur.fetchone()["n"]
        cur.execute("select reason, count(*) as n from rejected_events "
                    "where election_id = %s group by reason", (election_id,))
        rejected = {r["reason"]: r["n"] for r in cur.fetchall()}
    for key in ("opens_at", "closes_at"):
        election[key] = election[key].strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    ballots = sum(c["value"] for c in cells if c["metric"] == "turnout")
    turnout = {
        "ballots": ballots,
        "registered": registered,
        "turnout_percent": f"{100 * ballots / registered:.2f}" if registered else "0.00",
        "by_region": {c["item"]: c["value"] for c in sorted(cells, key=lambda c: c["item"])
                      if c["metric"] == "turnout"},
        "by_age_band_and_gender": {c["item"]: c["value"] for c in
                                   sorted(cells, key=lambda c: c["item"])
                                   if c["metric"] == "demographic"},
    }
    return election, turnout, rejected


def certify(url: str, election_id: str, *, contests: list[dict[str, Any]],
            reconciliation: Mapping[str, Any], topic: str, final_offsets: Mapping[Any, int],
            actor: str, out_dir: Path | None = None) -> dict[str, Any]:
    """Write the certificate, set the election ``certified`` and lock its results.

    ``reconciliation`` is what :func:`reconcile` returned (figures and report references).

    In the same transaction it checks that no ballot or check-in arrived since the recount
    (the election row is locked first, so none can arrive while it commits).
    """
    with audited(url, election_id, "certify", actor) as detail:
        election, turnout, rejected = _certificate_inputs(url, election_id)
        certificate = build_certificate(
            election, contests, turnout, rejected, reconciliation["figures"], topic,
            final_offsets, {"validation_run_ids": reconciliation["validation_run_ids"],
                            "reports": reconciliation["reports"]})
        text = canonical_json(certificate)
        digest = hashlib.sha256(text.encode()).hexdigest()
        page = certificate_html(certificate, digest)
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute("select status from elections where election_id = %s for update",
                        (election_id,))
            (status,) = cur.fetchone()
            if status != "closed":
                raise ElectionNotReady(f"election {election_id!r} is {status}, not closed")
            cur.execute("select (select count(*) from checkins where election_id = %(e)s), "
                        "(select count(*) from ballots where election_id = %(e)s), "
                        "(select ballots from recounts where election_id = %(e)s)",
                        {"e": election_id})
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
            cur.execute("update elections set status = 'certified', updated_at = now() "
                        "where election_id = %s", (election_id,))
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


def certificate_html(certificate: Mapping[str, Any], digest: str) -> str:
    """The certificate as a page a person can read and print; every value escaped."""
    e = html.escape
    election = certificate["election"]
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>Certificate: {e(election['title'])}</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;"
        "padding:0 1rem;color:#111}table{border-collapse:collapse;margin:.5rem 0 1.5rem}"
        "td,th{border:1px solid #999;padding:.25rem .6rem;text-align:left}"
        "td.n{text-align:right;font-variant-numeric:tabular-nums}"
        ".won{font-weight:bold}code{word-break:break-all}</style></head><body>",
        f"<h1>Official results: {e(election['title'])}</h1>",
        f"<p>Election <code>{e(election['election_id'])}</code>, open "
        f"{e(election['opens_at'])} to {e(election['closes_at'])} (UTC)."
        + (" <strong>Test election.</strong>" if election.get("is_test") else "") + "</p>",
        f"<p>Certificate SHA-256: <code>{e(digest)}</code><br>Voter roll fingerprint: "
        f"<code>{e(election.get('roll_fingerprint') or '')}</code></p>",
    ]
    for contest in certificate["contests"]:
        parts.append(f"<h2>{e(contest['title'])}</h2>")
        parts.append(
            f"<p>{e(contest['kind'])}"
            + (f", {contest['seats']} seats" if contest["seats"] > 1 else "")
            + f". Ballots {contest['ballots']:,}; blank {contest['blank_ballots']:,}; "
            f"undervoted {contest['undervoted_ballots']:,}; overvoted "
            f"{contest['overvoted_ballots']:,}.</p>")
        parts.append("<table><tr><th>Option</th><th>Votes</th><th>Share</th><th></th></tr>")
        for option in sorted(contest["options"], key=lambda o: -o["votes"]):
            won = option["option_id"] in contest["winners"]
            parts.append(
                f"<tr class='{'won' if won else ''}'><td>{e(option['name'])}</td>"
                f"<td class='n'>{option['votes']:,}</td>"
                f"<td class='n'>{e(option['share_percent'])} %</td>"
                f"<td>{'elected' if won and contest['kind'] != 'yes_no' else ''}</td></tr>")
        parts.append("</table>")
        if contest["kind"] == "yes_no":
            parts.append(f"<p><strong>{'Passes' if contest['passes'] else 'Fails'}</strong> "
                         f"(threshold {e(contest['threshold'])}). {e(contest['rule'])}</p>")
        if contest["tie"]:
            tie = contest["tie"]
            parts.append(
                f"<p><strong>Tie</strong> at {tie['votes']:,} votes between "
                f"{e(', '.join(tie['options']))} for {tie['seats']} seat(s), broken by lot: "
                f"{e(', '.join(tie['won']))}. Draw order {e(', '.join(tie['draw']))}; seed "
                f"<code>{e(tie['seed'])}</code>. {e(tie['rule'])}</p>")
    turnout = certificate["turnout"]
    parts.append(f"<h2>Turnout</h2><p>{turnout['ballots']:,} ballots of "
                 f"{turnout['registered']:,} registered voters "
                 f"({e(turnout['turnout_percent'])} %).</p><table>"
                 "<tr><th>Region</th><th>Ballots</th></tr>")
    parts += [f"<tr><td>{e(r)}</td><td class='n'>{n:,}</td></tr>"
              for r, n in turnout["by_region"].items()]
    parts.append("</table><h2>Rejected ballots</h2><table>"
                 "<tr><th>Reason</th><th>Events</th></tr>")
    parts += [f"<tr><td>{e(r)}</td><td class='n'>{n:,}</td></tr>"
              for r, n in certificate["rejected_by_reason"].items()]
    parts.append("</table><h2>Reconciliation</h2><table><tr><th>Check</th><th>Figures</th></tr>")
    parts += [f"<tr><td>{e(name)}</td><td><code>{e(json.dumps(value, sort_keys=True))}"
              f"</code></td></tr>" for name, value in certificate["reconciliation"].items()]
    offsets = certificate["final_offsets"]
    parts.append(f"</table><p>Final offsets of <code>{e(offsets['topic'])}</code>: "
                 f"<code>{e(json.dumps(offsets['partitions'], sort_keys=True))}</code></p>")
    quality = certificate.get("data_quality") or {}
    parts.append("<h2>Data quality</h2><p>Validation runs "
                 f"{e(', '.join(str(i) for i in quality.get('validation_run_ids', [])))}."
                 "</p><ul>")
    parts += [f"<li>{e(suite)}: <a href='/data-docs/{e(path)}'>{e(path)}</a></li>"
              for suite, path in sorted((quality.get("reports") or {}).items())]
    parts.append("</ul></body></html>")
    return "\n".join(parts)


# -- all steps in a row -------------------------------------------------------------------


@dataclass
class Services:
    """What certification runs against: Postgres, the broker, and a Spark session."""

    database_url: str
    kafka_bootstrap: str
    topic: str
    partitions: list[int]
    spark: Any
    quality_dir: Path | None = None
    certificates_dir: Path | None = None
    drain_timeout: float = 900.0
    say: Callable[[str], None] = field(default=print)
    ballot_group: int = DEFAULT_BALLOT_GROUP  # for other open elections' ballots

    @classmethod
    def from_settings(cls, settings: Any, spark: Any,
                      say: Callable[[str], None] = print) -> Services:
        """The configured services (``tallyflow.settings.Settings``) and a Spark session."""
        return cls(settings.database_url, settings.kafka_bootstrap, settings.votes_topic,
                   list(range(settings.votes_partitions)), spark,
                   quality_dir=settings.data_quality_dir,
                   certificates_dir=settings.certificates_dir, say=say,
                   ballot_group=settings.ballot_group)


def drain_votes(services: Services, election_id: str, *, actor: str) -> dict[int, int]:
    """:func:`drain`, tallying with micro-batches on ``services.spark``."""
    from jobs.tally_votes import run_micro_batches

    return drain(
        services.database_url, election_id, services.kafka_bootstrap, services.topic,
        services.partitions,
        lambda: run_micro_batches(services.spark, services.database_url,
                                  services.kafka_bootstrap, services.topic,
                                  services.partitions, seconds=services.drain_timeout,
                                  stop_when_idle=True, ballot_group=services.ballot_group,
                                  say=services.say),
        actor=actor, timeout=services.drain_timeout, say=services.say)


def recount_ledgers(services: Services, election_id: str, *, actor: str) -> dict[str, Any]:
    """The Spark recount (``jobs/recount_election.py``), recorded in the audit log."""
    from jobs.recount_election import recount

    with audited(services.database_url, election_id, "recount", actor) as detail:
        counted = recount(services.spark, services.database_url, election_id)
        detail.update(vars(counted))
    return vars(counted)


def certify_election(services: Services, election_id: str, *, actor: str) -> dict[str, Any]:
    """Every step in a row, as ``tallyflow certify`` runs them. Returns the certificate
    record; a certified election returns its existing certificate unchanged."""
    url, say = services.database_url, services.say
    existing = existing_certificate(url, election_id)
    if existing is not None:
        say(f"{election_id} is already certified: {existing['certificate_sha256']}")
        return {"election_id": election_id, "already_certified": True,
                "certificate_sha256": existing["certificate_sha256"],
                "certified_at": existing["certified_at"].isoformat()}
    closing = close_election(url, election_id, actor=actor)
    say(f"closed {election_id} at {closing['closes_at']}")
    final_offsets = drain_votes(services, election_id, actor=actor)
    say(f"drained; final offsets {final_offsets}")
    counted = recount_ledgers(services, election_id, actor=actor)
    say(f"recounted {counted['ballots']:,} ballots and {counted['checkins']:,} check-ins "
        f"in {counted['seconds']:.1f} s")
    reconciliation = reconcile(url, election_id, services.topic, final_offsets,
                               project_dir=services.quality_dir, actor=actor)
    say("reconciled: every check holds")
    contests = tabulate(url, election_id, actor=actor)
    certified = certify(url, election_id, contests=contests,
                        reconciliation=reconciliation, topic=services.topic,
                        final_offsets=final_offsets, actor=actor,
                        out_dir=services.certificates_dir)
    say(f"certified {election_id}: sha256 {certified['certificate_sha256']}")
    return certified
