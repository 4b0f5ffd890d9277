"""The results as a NIST SP 1500-100 v2 Election Results Reporting document (JSON).

Pure: built from the results export (``dash_app.results.results_document``), its precinct
level (``dash_app.precincts``) and the region tree and parties. The schema is vendored in
``schemas/nist/`` (NIST's v2.0.3 release); the tests validate every document against it.

- GpUnits: one ReportingUnit per region, composed of its children; a level NIST names
  (county, precinct, ward, ...) is its Type, any other is ``other`` with ``OtherType``. The
  election's scope is the root region (or a unit composing the roots when there are
  several).
- Contests: plurality, approval and ranked contests are CandidateContests (VoteVariation
  plurality, approval, rcv); yes/no contests are BallotMeasureContests. A contest limited
  to a district has that district's unit as its ``ElectionDistrictId`` (else the scope), and
  a candidate contest that is a party primary has ``PrimaryPartyIds``. Counts are of
  ``Type`` total for the contest's district and for each of its precincts, then the same
  per vote method (``METHOD_TYPES``: election-day, absentee-mail, other "online"); a count
  hidden by the small-cell rule has ``IsSuppressedForPrivacy`` and a count of 0. A ranked
  contest has one total count per round for its district (``Round``).
- Status: ``certified`` once the certificate exists, ``unofficial-complete`` after the
  close, ``unofficial-partial`` before it.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

REPORTING_UNIT_TYPES = {
    "ballot-batch", "ballot-style-area", "borough", "city", "city-council",
    "combined-precinct", "congressional", "country", "county", "county-council",
    "drop-box", "judicial", "municipality", "polling-place", "precinct", "school",
    "special", "split-precinct", "state", "state-house", "state-senate", "town", "township",
    "utility", "village", "vote-center", "ward", "water"}
VARIATIONS = {"plurality": "plurality", "approval": "approval", "ranked": "rcv"}
SCOPE = "gp-election"
# Each vote method as a CountItemType (with its OtherType where NIST has no type for it).
METHOD_TYPES = {"in_person": ("election-day", None), "mail": ("absentee-mail", None),
                "online": ("other", "online")}


def _text(content: str) -> dict[str, Any]:
    return {"@type": "ElectionResults.InternationalizedText",
            "Text": [{"@type": "ElectionResults.LanguageString", "Content": content,
                      "Language": "en"}]}


def _count(gp_unit: str, count: float | None, round_number: int | None = None,
           method: str | None = None) -> dict[str, Any]:
    """One VoteCounts: the total, or one vote method's (``method``); None is hidden."""
    kind, other = METHOD_TYPES[method] if method else ("total", None)
    counts: dict[str, Any] = {"@type": "ElectionResults.VoteCounts", "GpUnitId": gp_unit,
                              "Type": kind, "Count": 0 if count is None else count}
    if other:
        counts["OtherType"] = other
    if count is None:
        counts["IsSuppressedForPrivacy"] = True
    if round_number is not None:
        counts["Round"] = round_number
    return counts


def _gp_units(tree: list[dict], precincts: dict[str, dict]) -> tuple[list[dict], str]:
    """The ReportingUnits and the id of the election's scope."""
    children: dict[str | None, list[str]] = {}
    for region in tree:
        children.setdefault(region["parent_region_id"], []).append(region["region_id"])
    units = []
    for region in tree:
        unit: dict[str, Any] = {"@type": "ElectionResults.ReportingUnit",
                                "@id": f"gp-{region['region_id']}",
                                "Name": _text(region["name"])}
        level = region["level"]
        if level in REPORTING_UNIT_TYPES:
            unit["Type"] = level
        else:
            unit.update(Type="other", OtherType=level)
        below = children.get(region["region_id"], [])
        if below:
            unit["ComposingGpUnitIds"] = [f"gp-{r}" for r in sorted(below)]
        elif region["region_id"] in precincts:
            shown = precincts[region["region_id"]]
            unit["VotersRegistered"] = shown["registered"]
            if shown["ballots"] is not None:
                unit["VotersParticipated"] = shown["ballots"]
        units.append(unit)
    roots = sorted(children.get(None, []))
    if len(roots) == 1:
        return units, f"gp-{roots[0]}"
    units.append({"@type": "ElectionResults.ReportingUnit", "@id": SCOPE, "Type": "other",
                  "OtherType": "election", "Name": _text("The whole election"),
                  "ComposingGpUnitIds": [f"gp-{r}" for r in roots]})
    return units, SCOPE


def _status(election: dict[str, Any], official: bool) -> str:
    if official:
        return "certified"
    return "unofficial-partial" if election["status"] in ("draft", "scheduled", "open") \
        else "unofficial-complete"


def _selection_counts(contest: dict, option: dict, scope: str,
                      precincts: dict[str, dict]) -> list[dict]:
    """An option's counts: total for the contest's district and each of its precincts,
    then per vote method for each of them (none for a contest without a split)."""
    option_id = option["option_id"]
    if contest.get("rounds"):
        return [_count(scope, r["tally"][option_id], r["round"]) for r in contest["rounds"]
                if option_id in r["tally"]]
    own = sorted(precincts.get(contest["contest_id"], {}).items())
    counts = [_count(scope, option["votes"] or 0)]
    counts += [_count(f"gp-{rid}", None if p["votes"] is None else p["votes"].get(option_id, 0))
               for rid, p in own]
    split = option.get("by_vote_method")
    if split is None:
        return counts
    for method in METHOD_TYPES:
        counts.append(_count(scope, split[method] if isinstance(split[method], int) else None,
                             method=method))
        counts += [_count(f"gp-{rid}", _method_votes(p, method, option_id), method=method)
                   for rid, p in own if p.get("by_vote_method") is not None]
    return counts


def _method_votes(precinct: dict, method: str, option_id: str) -> int | None:
    """An option's votes in a precinct by one vote method; None when hidden."""
    cell = precinct["by_vote_method"][method]
    return None if cell["suppressed"] else cell["votes"].get(option_id, 0)


def _candidate(contest: dict, option: dict, option_party: dict,
               winners: set[str] | None) -> dict[str, Any]:
    cid = contest["contest_id"]
    candidate: dict[str, Any] = {"@type": "ElectionResults.Candidate",
                                 "@id": f"candidate-{cid}-{option['option_id']}",
                                 "BallotName": _text(option["name"])}
    party = option_party.get((cid, option["option_id"]))
    if party:
        candidate["PartyId"] = f"party-{party}"
    if winners is not None:
        candidate["PostElectionStatus"] = ("winner" if option["option_id"] in winners
                                           else "defeated")
    return candidate


def _contest(contest: dict[str, Any], scope: str, precincts: dict,
             option_party: dict, winners: set[str] | None, candidates: list[dict]) -> dict:
    """A contest: counted for its district (the scope when it is on every ballot)."""
    cid = contest["contest_id"]
    district = (f"gp-{contest['district_region_id']}" if contest.get("district_region_id")
                else scope)
    other = {"@type": "ElectionResults.OtherCounts", "GpUnitId": district,
             "Overvotes": contest.get("overvoted_ballots") or 0,
             "Undervotes": contest.get("blank_ballots") or 0}
    if contest["kind"] == "yes_no":
        return {
            "@type": "ElectionResults.BallotMeasureContest", "@id": f"contest-{cid}",
            "Name": contest["title"], "ElectionDistrictId": district, "OtherCounts": [other],
            "ContestSelection": [{
                "@type": "ElectionResults.BallotMeasureSelection",
                "@id": f"selection-{cid}-{o['option_id']}", "Selection": _text(o["name"]),
                "SequenceOrder": i + 1,
                "VoteCounts": _selection_counts(contest, o, district, precincts),
            } for i, o in enumerate(contest["options"])],
        }
    selections = []
    for i, option in enumerate(contest["options"]):
        candidate = _candidate(contest, option, option_party, winners)
        candidates.append(candidate)
        selections.append({
            "@type": "ElectionResults.CandidateSelection",
            "@id": f"selection-{cid}-{option['option_id']}", "CandidateIds": [candidate["@id"]],
            "SequenceOrder": i + 1,
            "VoteCounts": _selection_counts(contest, option, district, precincts),
        })
    allowed = contest["seats"] if contest["kind"] == "plurality" else len(contest["options"])
    found = {
        "@type": "ElectionResults.CandidateContest", "@id": f"contest-{cid}",
        "Name": contest["title"], "ElectionDistrictId": district, "VotesAllowed": allowed,
        "NumberElected": contest["seats"], "VoteVariation": VARIATIONS[contest["kind"]],
        "OtherCounts": [other], "ContestSelection": selections,
    }
    if contest.get("party_id"):
        found["PrimaryPartyIds"] = [f"party-{contest['party_id']}"]
    return found


def election_report(raw: dict[str, Any], document: dict[str, Any],
                    precincts: list[dict[str, Any]], facts: dict[str, list[dict]], *,
                    generated_at: datetime, issuer: str = "Tallyflow",
                    issuer_abbreviation: str = "TF") -> dict[str, Any]:
    """The ElectionReport for one state of the results: a whole report, so its sequence is
    1 of 1. A precinct's turnout shows as the export shows it (hidden below the small-cell
    threshold)."""
    election = raw["election"]
    turnout = document["turnout_by_region"]
    precinct_facts = {r["region_id"]: {
        "registered": int(r["registered"]),
        "ballots": turnout.get(r["region_id"]) if isinstance(
            turnout.get(r["region_id"]), int) else None} for r in raw["regions"]}
    units, scope = _gp_units(facts["tree"], precinct_facts)
    by_precinct = {c["contest_id"]: {p["region_id"]: p for p in c["precincts"]}
                   for c in precincts}
    option_party = {(r["contest_id"], r["option_id"]): r["party_id"]
                    for r in facts["option_parties"]}
    names = {(c["contest_id"], o["name"]): o["option_id"] for c in document["contests"]
             for o in c["options"]}
    candidates: list[dict] = []
    contests = []
    for contest in document["contests"]:
        winners = ({names[(contest["contest_id"], n)] for n in contest["leading"]}
                   if document["official"] else None)
        contests.append(_contest(contest, scope, by_precinct, option_party, winners,
                                 candidates))
    return {
        "@type": "ElectionResults.ElectionReport",
        "Format": "precinct-level",
        "GeneratedDate": generated_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "Issuer": issuer, "IssuerAbbreviation": issuer_abbreviation,
        "VendorApplicationId": "Tallyflow",
        "SequenceStart": 1, "SequenceEnd": 1,
        "Status": _status(election, document["official"]),
        "IsTest": bool(election["is_test"]),
        "GpUnit": units,
        "Party": [{"@type": "ElectionResults.Party", "@id": f"party-{p['party_id']}",
                   "Name": _text(p["name"]), "Abbreviation": _text(p["abbreviation"]),
                   "Color": p["colour"].lstrip("#").lower()} for p in facts["parties"]],
        "Election": [{
            "@type": "ElectionResults.Election", "Name": _text(election["title"]),
            "Type": "general", "ElectionScopeId": scope,
            "StartDate": election["opens_at"].date().isoformat(),
            "EndDate": election["closes_at"].date().isoformat(),
            "Candidate": candidates, "Contest": contests,
            "BallotCounts": [{"@type": "ElectionResults.BallotCounts", "GpUnitId": scope,
                              "Type": "total",
                              "BallotsCast": document["completeness"]["ballots"]}],
        }],
    }


SCHEMA_PATH = (Path(__file__).resolve().parents[2] / "schemas" / "nist"
               / "NIST_V2_election_results_reporting.json")


def problems(report: dict[str, Any]) -> list[str]:
    """What is wrong with an ElectionReport: each place NIST's JSON schema (draft 4) refuses,
    and each reference (a ``...Id`` or ``...Ids`` value) to an ``@id`` the report lacks."""
    from jsonschema import Draft4Validator

    validator = Draft4Validator(json.loads(SCHEMA_PATH.read_text()))
    found = [f"{'/'.join(map(str, e.absolute_path)) or '(report)'}: {e.message}"
             for e in validator.iter_errors(report)]
    ids: set[str] = set()
    references: list[tuple[str, str]] = []

    def walk(node: Any, path: str) -> None:
        if isinstance(node, dict):
            if "@id" in node:
                ids.add(node["@id"])
            for key, value in node.items():
                if key.endswith("Id") and isinstance(value, str):
                    references.append((f"{path}/{key}", value))
                elif key.endswith("Ids") and isinstance(value, list):
                    references.extend((f"{path}/{key}", v) for v in value)
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, item in enumerate(node):
                walk(item, f"{path}/{i}")

    walk(report, "")
    found += [f"{where}: {target!r} is no @id in the report" for where, target in references
              if target not in ids and not where.endswith("VendorApplicationId")]
    return found
