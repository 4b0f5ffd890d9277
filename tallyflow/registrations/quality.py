"""Great Expectations checks of an election's registrations: parties, candidates, regions, voters.

The suites are defined here in code, one per table, parameterised by the election (its
voting age, regions and parties). They run on pandas frames read from Postgres, through a
file-based GX project under ``<TALLYFLOW_HOME>/data-quality``, whose Data Docs site is the
readable report. Each run is also recorded in ``validation_runs``.

A failed ``critical`` expectation fails its suite and keeps the election from opening.
Failures keep counts, never sample rows (the report is public).
Likely duplicate people are a ``warning``: flagged in the report for a human to review,
without blocking the election.
"""

from __future__ import annotations

import io
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import great_expectations.expectations as gxe
import pandas as pd

from tallyflow import db
from tallyflow.elections.store import UnknownElection
from tallyflow.quality import SuiteResult, record_validation_runs, run_suites
from tallyflow.registrations.synthetic import GENDERS
from tallyflow.settings import Settings

SUITES = ("parties", "candidates", "regions", "voters")
DATA_SOURCE = "registrations"


@dataclass(frozen=True)
class RollRules:
    """What the suites need to know about the election they check."""

    election_id: str
    voting_age: int
    region_ids: frozenset[str]
    precinct_ids: frozenset[str]
    party_ids: frozenset[str]


def _not_null(*columns: str) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToNotBeNull(column=c, description=f"mandatory field {c} is present")
        for c in columns
    ]


def registration_suites(rules: RollRules) -> dict[str, list[gxe.Expectation]]:
    """The expectations of each suite, for one election."""
    return {"parties": _party_suite(), "candidates": _candidate_suite(rules),
            "regions": _region_suite(rules), "voters": _voter_suite(rules)}


def _party_suite() -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeUnique(column="party_id", description="party ids are unique"),
        *_not_null("party_id", "name", "abbreviation", "colour"),
        gxe.ExpectColumnValuesToMatchRegex(
            column="colour", regex=r"^#[0-9a-fA-F]{6}$", description="colours are #rrggbb"
        ),
    ]


def _candidate_suite(rules: RollRules) -> list[gxe.Expectation]:
    return [
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["contest_id", "option_id"],
            description="option ids are unique within their contest",
        ),
        *_not_null("contest_id", "option_id", "name"),
        gxe.ExpectColumnValuesToBeInSet(
            column="party_id",
            value_set=sorted(rules.party_ids),
            description="the parties candidates reference exist",
        ),
    ]


def _region_suite(rules: RollRules) -> list[gxe.Expectation]:
    return [
        gxe.ExpectColumnValuesToBeUnique(
            column="region_id", description="region ids are unique"
        ),
        *_not_null("region_id", "name", "level"),
        gxe.ExpectColumnValuesToBeInSet(
            column="parent_region_id",
            value_set=sorted(rules.region_ids),
            description="parent regions exist",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="registered_voters",
            column_B="roll_count",
            ignore_row_if="both_values_are_missing",
            description="each region's registered count matches the voters on the roll",
        ),
        gxe.ExpectColumnPairValuesToBeEqual(
            column_A="expected_voters",
            column_B="roll_count",
            ignore_row_if="either_value_is_missing",
            description="the registrar's expected count matches the voters on the roll",
        ),
    ]


def _voter_suite(rules: RollRules) -> list[gxe.Expectation]:
    return [
        gxe.ExpectTableRowCountToBeBetween(min_value=1, description="the roll is not empty"),
        gxe.ExpectColumnValuesToBeUnique(column="voter_id", description="voter ids are unique"),
        *_not_null("voter_id", "full_name", "birth_date", "gender", "region_id",
                   "registered_on"),
        gxe.ExpectColumnValuesToBeInSet(
            column="region_id",
            value_set=sorted(rules.precinct_ids),
            description="voters are registered in a precinct of this election",
        ),
        gxe.ExpectColumnValuesToBeInSet(
            column="gender", value_set=list(GENDERS), description="gender codes are known"
        ),
        gxe.ExpectColumnValuesToBeBetween(
            column="age_on_election_day",
            min_value=rules.voting_age,
            description=f"voters are at least {rules.voting_age} on election day",
        ),
        gxe.ExpectCompoundColumnsToBeUnique(
            column_list=["normalised_name", "birth_date", "region_id"],
            severity="warning",
            description="no likely duplicate people (same name, birth date and region)",
        ),
    ]


# -- reading the registrations ------------------------------------------------------------


def roll_rules(url: str, election_id: str) -> RollRules:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("election_voting_age"), {"election_id": election_id})
        row = cur.fetchone()
        if row is None:
            raise UnknownElection(election_id)
        cur.execute(db.query("election_region_ids"), {"election_id": election_id})
        region_ids = frozenset(r for (r,) in cur)
        cur.execute(db.query("precincts"), {"election_id": election_id})
        precinct_ids = frozenset(r for r, _population in cur)
        cur.execute(db.query("election_party_ids"), {"election_id": election_id})
        party_ids = frozenset(p for (p,) in cur)
    return RollRules(election_id, row[0], region_ids, precinct_ids, party_ids)


def _frame(cur, name: str, election_id: str) -> pd.DataFrame:
    cur.execute(db.query(name), {"election_id": election_id})
    return pd.DataFrame(cur.fetchall(), columns=[d.name for d in cur.description])


def registration_frames(url: str, election_id: str) -> dict[str, pd.DataFrame]:
    """One frame per suite, read from Postgres. Voters come through COPY for speed."""
    with db.connection(url) as conn, conn.cursor() as cur:
        frames = {
            "parties": _frame(cur, "quality_parties", election_id),
            "candidates": _frame(cur, "quality_candidates", election_id),
            "regions": _frame(cur, "quality_regions", election_id),
        }
        buffer = io.StringIO()
        statement = cur.mogrify(db.query("quality_voters"), {"election_id": election_id})
        cur.copy_expert(statement.decode(), buffer)
    buffer.seek(0)
    frames["voters"] = pd.read_csv(
        buffer,
        names=["voter_id", "full_name", "normalised_name", "birth_date", "gender", "region_id",
               "registered_on", "age_on_election_day"],
        dtype={"voter_id": str, "full_name": str, "normalised_name": str, "gender": str,
               "region_id": str, "birth_date": str, "registered_on": str},
        keep_default_na=False,
        na_values=[""],
    )
    return frames


# -- running the suites -------------------------------------------------------------------


def validate_frames(
    frames: Mapping[str, pd.DataFrame],
    rules: RollRules,
    project_dir: Path,
    suites: tuple[str, ...] = SUITES,
) -> list[SuiteResult]:
    """Run each suite on its frame; write the results and Data Docs in the GX project."""
    expectations = registration_suites(rules)
    # Counts only, never sample rows: the report is served to anyone at /data-docs/ and
    # validation_runs is read by the site; a voter's name or birth date must be in neither.
    return run_suites(project_dir, DATA_SOURCE, rules.election_id,
                      {name: (frames[name], expectations[name]) for name in suites},
                      samples=0)


def validate_registrations(url: str, election_id: str, project_dir: Path) -> list[SuiteResult]:
    """Check one election's registrations, record the runs, and return their results."""
    rules = roll_rules(url, election_id)
    results = validate_frames(registration_frames(url, election_id), rules, project_dir)
    record_validation_runs(url, election_id, results)
    return results


class RegistrationsInvalid(ValueError):
    """A critical expectation failed; the message lists each failure."""


def check_registrations(settings: Settings, election_id: str) -> dict[str, Any]:
    """Validate, log each suite with its report, and raise if a critical check failed.

    Returns ``{suite: report path}`` for the task's XCom.
    """
    import logging

    log = logging.getLogger(__name__)
    results = validate_registrations(settings.database_url, election_id,
                                     settings.data_quality_dir)
    for result in results:
        where = (f"{settings.site_url}/data-docs/{result.report_path}  "
                 f"(file: {settings.data_docs_dir / result.report_path})")
        log.info("%s %s: %s rows, %d failed, %d warnings; report: %s", election_id,
                 result.suite_name, f"{result.row_count:,}", result.failed_expectations,
                 result.warned_expectations, where)
        for failure in result.failures:
            log.warning("%s [%s] %s", result.suite_name, failure["severity"], failure["summary"])
    failures = [f"{election_id} {r.suite_name}: {f['summary']}" for r in results
                for f in r.failures if f["severity"] == "critical"]
    if failures:
        raise RegistrationsInvalid("registrations failed validation:\n" + "\n".join(failures))
    return {r.suite_name: r.report_path for r in results}


def elections_needing_validation(url: str) -> list[str]:
    """Elections not yet open whose roll changed after their last check (or never checked)."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("elections_needing_validation"))
        return [election_id for (election_id,) in cur]
