"""An election's results as the site and the results API show them, from the aggregates only.

``load_results`` reads every aggregate the results page needs in one snapshot, through the
site's read-only role; the page's callbacks, the JSON and CSV exports and the tests all
use it. Nothing here counts raw votes: the aggregates are already counted.
"""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import UTC, datetime
from typing import Any

import psycopg2.extensions

from dash_app.ballot_styles import add_styles
from tallyflow import db
from tallyflow.elections.layout import group_contests
from tallyflow.elections.store import UnknownElection
from tallyflow.feeds.small_cells import shown, suppress
from tallyflow.settings import get_settings
from tallyflow.tabulation import leaders, margin_points, passes_threshold, share, threshold_of
from tallyflow.tabulation.runoff import live_rounds_of_summary

# Colour-blind-safe colours (Okabe-Ito) for options without a party colour.
SAFE_COLOURS = ["#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
                "#f0e442", "#000000"]


# An election id as URLs carry it (docs/openapi.yaml's ElectionId).
ELECTION_ID = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def is_election_id(text: str | None) -> bool:
    return bool(text) and ELECTION_ID.match(text) is not None


def _rows(cur, name: str, params: dict) -> list[dict]:
    return db.rows_as_dicts(cur, name, params)


# What a results page reads, each part by its query.
RESULT_QUERIES = {
    "options": "results_options", "contest_ballots": "results_contest_ballots",
    "regions": "results_regions", "timeline": "results_timeline",
    "demographics": "results_demographics", "rejected": "results_rejected",
    "quality": "results_quality",
    "rankings": "results_rankings",
    "contest_styles": "results_contests", "option_methods": "results_option_methods",
    "contest_methods": "results_contest_methods",
}


def map_contest_of(options: list[dict], wanted: str | None) -> str | None:
    """The contest the precinct map shows: ``wanted`` when it is a contest with votes per
    precinct (not ranked), else the first such contest on the ballot."""
    mappable = list(dict.fromkeys(r["contest_id"] for r in options if r["kind"] != "ranked"))
    return wanted if wanted in mappable else (mappable[0] if mappable else None)


def load_results(url: str, election_id: str, topic: str, *, map_contest: str | None = None,
                 with_map: bool = True) -> dict[str, Any]:
    """Every aggregate behind one election's results page, read in one snapshot; raises
    :class:`~tallyflow.elections.store.UnknownElection`. With ``with_map`` also the leaders
    per precinct of one contest (``map_contest_of``: the page's map) and its ballots per
    precinct, as ``map_contest``, ``precinct_leaders`` and ``map_contest_ballots``."""
    params = {"election_id": election_id, "topic": topic}
    with db.connection(url) as conn:
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ,
                         readonly=True)
        with conn.cursor() as cur:
            election = _rows(cur, "results_election", params)
            if not election:
                raise UnknownElection(election_id)
            raw = {name: _rows(cur, query, params) for name, query in RESULT_QUERIES.items()}
            mapped = map_contest_of(raw["options"], map_contest) if with_map else None
            raw["map_contest"] = mapped
            mapped_params = {**params, "contest_id": mapped}
            raw["precinct_leaders"] = _rows(cur, "results_precinct_leaders",
                                            mapped_params) if mapped else []
            # A primary's ballots in a precinct are fewer than its turnout; any other
            # contest's are its turnout there (``map_precincts`` judges by that then).
            primary = any(r["contest_id"] == mapped and r["party_id"]
                          for r in raw["contest_styles"])
            raw["map_contest_ballots"] = _rows(cur, "results_map_contest_ballots",
                                               mapped_params) if primary else []
            pipeline = _rows(cur, "pipeline_health", params)
            certificate = (_rows(cur, "certificate_by_election", params)
                           if election[0]["certificate_sha256"] else [])
    raw = {"election": election[0], **raw, "pipeline": pipeline[0] if pipeline else None}
    raw["rankings"] = [{**row, **json.loads(row["rounds"])} for row in raw["rankings"]]
    if certificate:
        raw = as_certified(raw, json.loads(certificate[0]["canonical_json"]))
    return raw


def as_certified(raw: dict[str, Any], certificate: dict[str, Any]) -> dict[str, Any]:
    """The results of a certified election as its certificate states them: the votes of
    every option and each contest's ballot counts come from the certificate, never from
    the live aggregate cells."""
    contests = {c["contest_id"]: c for c in certificate["contests"]}
    options = [{**row, "votes": {o["option_id"]: o["votes"] for o in contests.get(
                   row["contest_id"], {}).get("options", [])}.get(row["option_id"], 0)}
               for row in raw["options"]]
    ballots = [{"contest_id": cid, **{key: contest.get(key, 0) for key in (
                   "ballots", "blank_ballots", "undervoted_ballots", "overvoted_ballots",
                   "off_ballot_ballots")}}
               for cid, contest in contests.items()]
    rankings = [{"contest_id": cid, **live_rounds_of_summary(contest["rounds"],
                                                              contest["winners"])}
                for cid, contest in contests.items()
                if contest.get("kind") == "ranked" and contest.get("rounds")]
    return {**raw, "options": options, "contest_ballots": ballots, "rankings": rankings}


# -- what the numbers say -----------------------------------------------------------------


def contest_results(raw: dict[str, Any], too_close: float | None = None) -> list[dict]:
    """Per contest: options with votes and shares, the leader, margin and winners so far,
    and its ballot style, electorate and vote-method split (``add_styles``).

    A lead below ``too_close`` percentage points (``TALLYFLOW_TOO_CLOSE_POINTS``, 0.5) is
    "too close to call"."""
    too_close = get_settings().too_close_points if too_close is None else too_close
    ballots = {row["contest_id"]: row for row in raw["contest_ballots"]}
    contests = group_contests(
        raw["options"],
        {"title": "contest_title", "kind": "kind", "seats": "seats", "threshold": "threshold"},
        {"option_id": "option_id", "name": "name", "party": "party_name", "colour": "colour",
         "votes": "votes"})
    results = []
    for contest in contests:
        for i, option in enumerate(contest["options"]):
            option["colour"] = option["colour"] or SAFE_COLOURS[i % len(SAFE_COLOURS)]
        if contest["kind"] == "ranked":
            stored = next((r for r in raw.get("rankings") or []
                           if r["contest_id"] == contest["contest_id"]), None)
            counted = ballots.get(contest["contest_id"], {})
            results.append(_ranked(contest, stored, counted, raw["election"])
                           if stored else _ranked_pending(contest, counted))
            continue
        options = contest["options"]
        for option in options:
            option["votes"] = int(option["votes"])
        total = sum(o["votes"] for o in options)
        for option in options:
            option["share"] = round(share(option["votes"], total), 2)
        votes = {o["option_id"]: o["votes"] for o in options}
        names = {o["option_id"]: o["name"] for o in options}
        ahead = [names[o] for o in leaders(votes, len(votes))]
        margin = margin_points(votes)
        counted = ballots.get(contest["contest_id"], {})
        result = {
            **contest,
            "total_votes": total,
            "ballots": int(counted.get("ballots") or 0),
            "blank_ballots": int(counted.get("blank_ballots") or 0),
            "overvoted_ballots": int(counted.get("overvoted_ballots") or 0),
            "leader": ahead[0] if total else None,
            "margin_points": margin,
            "too_close": margin is not None and margin < too_close,
            "leading": ahead[: contest["seats"]] if total else [],
        }
        if contest["kind"] == "yes_no":
            needed = threshold_of(contest["threshold"])
            result["threshold_share"] = float(round(needed * 100, 2))
            result["threshold_met"] = passes_threshold(votes.get("yes", 0), votes.get("no", 0),
                                                       needed)
        results.append(result)
    return add_styles(results, raw)


# A ranked contest's option counts are mentions at any rank, not votes: until a ranking is
# counted (``ranking_totals``) no leader, share or margin is shown.
RANKED_PENDING = ("Ranked-choice contest: no ranking counted yet, so no leader is shown. "
                  "The rounds appear here as ballots are counted.")


def _ranked_pending(contest: dict[str, Any], counted: dict[str, Any]) -> dict[str, Any]:
    """A ranked contest as the site and the exports show it before any ranking is counted:
    its ballots, its candidates, and no votes, shares, leader or margin."""
    return {
        **contest,
        "options": [{**o, "votes": None, "share": None} for o in contest["options"]],
        "total_votes": None,
        "ballots": int(counted.get("ballots") or 0),
        "blank_ballots": int(counted.get("blank_ballots") or 0),
        "overvoted_ballots": int(counted.get("overvoted_ballots") or 0),
        "leader": None, "margin_points": None, "too_close": False, "leading": [],
        "note": RANKED_PENDING,
    }


PROVISIONAL = ("Provisional: the rounds are run on the ballots counted so far; later "
               "ballots can change who is eliminated.")


def _ranked(contest: dict[str, Any], stored: dict[str, Any], counted: dict[str, Any],
            election: dict[str, Any]) -> dict[str, Any]:
    """A ranked contest as its rounds have it (run by the tally over the rankings counted so
    far, or the certificate's: ``tallyflow.tabulation.runoff``): first preferences as the
    options' votes, every round, and who leads (or won) after the last round."""
    rounds = stored["rounds"]
    first = rounds[0]["tally"]
    total = sum(first.values())
    names = {o["option_id"]: o["name"] for o in contest["options"]}
    certified = election.get("certificate_sha256") is not None
    return {
        **contest,
        "options": [{**o, "votes": first.get(o["option_id"], 0),
                     "share": round(share(first.get(o["option_id"], 0), total), 2)}
                    for o in contest["options"]],
        "total_votes": total,
        "ballots": int(counted.get("ballots") or 0),
        "blank_ballots": int(counted.get("blank_ballots") or 0),
        "overvoted_ballots": int(counted.get("overvoted_ballots") or 0),
        "leader": names.get(stored["winners"][0]) if stored["winners"] else None,
        "margin_points": None, "too_close": False,
        "leading": [names[w] for w in stored["winners"]],
        "rounds": rounds,
        "note": None if certified else PROVISIONAL,
    }


def completeness(raw: dict[str, Any]) -> dict[str, Any]:
    """Ballots counted, turnout against the registered, regions reporting X of N, and the
    ballots received and checked that wait for their group (ballot secrecy), election-wide:
    never per precinct."""
    regions = raw["regions"]
    registered = sum(int(r["registered"]) for r in regions)
    counted = sum(int(r["ballots"]) for r in regions)
    return {
        "ballots": counted,
        "ballots_waiting_for_group": int(raw["election"].get("ballots_waiting") or 0),
        "registered": registered,
        "turnout_percent": round(share(counted, registered), 2),
        "regions_reporting": sum(1 for r in regions if r["ballots"]),
        "regions": len(regions),
    }


def freshness(raw: dict[str, Any], now: datetime | None = None) -> dict[str, Any] | None:
    pipeline = raw["pipeline"]
    if pipeline is None:
        return None
    now = now or datetime.now(UTC)
    return {"seconds_ago": max(0, round((now - pipeline["last_batch_at"]).total_seconds())),
            "lag": pipeline["consumer_lag"], "freshness_ms": pipeline["freshness_ms"],
            "log_resets": pipeline.get("log_resets") or 0,
            "last_log_reset_at": pipeline.get("last_log_reset_at")}


def is_embargoed(election: dict[str, Any]) -> bool:
    """Tallies stay hidden until the close when the election embargoes them."""
    return bool(election["is_tally_embargoed"]) and election["status"] in (
        "draft", "scheduled", "open")


def results_document(raw: dict[str, Any]) -> dict[str, Any]:
    """The results as the JSON export gives them (and the page shows them)."""
    election = raw["election"]
    embargoed = is_embargoed(election)
    demographics = suppress({f"{r['age_band']}/{r['gender']}": int(r["ballots"])
                             for r in raw["demographics"]})
    regions = suppress({r["region_id"]: int(r["ballots"]) for r in raw["regions"]})
    return {
        "election_id": election["election_id"],
        "title": election["title"],
        "status": election["status"],
        "is_test": election["is_test"],
        "official": election["certificate_sha256"] is not None,
        "certificate_sha256": election["certificate_sha256"],
        "roll_fingerprint": election["roll_fingerprint"],
        "embargoed": embargoed,
        "quality": (raw["quality"][0]["status"] if raw["quality"] else None),
        "completeness": completeness(raw),
        "turnout_by_region": {k: shown(c) for k, c in regions.items()},
        "turnout_by_age_band_and_gender": {k: shown(c) for k, c in demographics.items()},
        "contests": [] if embargoed else contest_results(raw),
        "rejected": {} if embargoed else {r["reason"]: int(r["events"])
                                          for r in raw["rejected"]},
    }


def results_csv(document: dict[str, Any]) -> str:
    """One row per contest × option: the CSV export. A ranked contest's options carry their
    first preferences (``round`` 1), then one row per candidate still in each later round,
    with that round's votes and share. ``district`` and ``primary_party`` name the contest's
    district and the party of its primary (empty: every voter's)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["election_id", "status", "official", "contest_id", "contest", "option_id",
                     "option", "party", "votes", "share_percent", "round", "district",
                     "primary_party"])
    lead = [document["election_id"], document["status"],
            "official" if document["official"] else "unofficial"]
    for contest in document["contests"]:
        rounds = contest.get("rounds") or []
        style = [contest.get("district") or "", contest.get("party") or ""]
        for option in contest["options"]:
            writer.writerow(lead + [
                contest["contest_id"], contest["title"], option["option_id"], option["name"],
                option["party"] or "", "" if option["votes"] is None else option["votes"],
                "" if option["share"] is None else f"{option['share']:.2f}",
                1 if rounds else "", *style])
        options = {o["option_id"]: o for o in contest["options"]}
        for later in rounds[1:]:
            total = sum(later["tally"].values())
            for option_id, votes in later["tally"].items():
                option = options[option_id]
                writer.writerow(lead + [
                    contest["contest_id"], contest["title"], option_id, option["name"],
                    option["party"] or "", votes, f"{share(votes, total):.2f}",
                    later["round"], *style])
    return buffer.getvalue()
