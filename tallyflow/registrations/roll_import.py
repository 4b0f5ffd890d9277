"""Importing a voter roll from a CSV file: every row loads or is quarantined with why.

The header has :data:`~tallyflow.registrations.synthetic.ROLL_COLUMNS` and may have
``party`` (a party id of the election; empty: no affiliation). A row that cannot be loaded
goes to ``quarantined_registrations`` with its line number, raw text and reason; the good
rows load through :func:`tallyflow.registrations.roll.load_roll`.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
from psycopg2.extras import execute_values

from tallyflow import db
from tallyflow.registrations.roll import (
    CredentialsSink,
    ElectionRoll,
    Progress,
    election_roll,
    load_roll,
    require_editable,
)
from tallyflow.registrations.synthetic import PARTY_COLUMN, ROLL_COLUMNS

GENDER_CODES = {
    "female": "female", "f": "female",
    "male": "male", "m": "male",
    "other": "other", "x": "other",
    "unknown": "unknown", "u": "unknown",
}

# The optional column of an imported roll naming the voter's party (empty: none).
PARTY_CSV_COLUMN = "party"


class RollFileError(ValueError):
    """The whole file is unusable (unreadable, or missing columns)."""


@dataclass
class ImportReport:
    source_name: str
    loaded: int = 0
    quarantined: list[tuple[int, str]] = field(default_factory=list)


def _parse_date(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _age_on(day: date, birth: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _row_problem(row: dict, width: int, roll: ElectionRoll, precincts: set[str],
                 seen: set[str]) -> str | None:
    """Why a row cannot be loaded, or None. Fills in normalised values on success."""
    extra = row.get(None) or []
    present = sum(v is not None for k, v in row.items() if k is not None)
    if extra or present < width:
        return f"has {present + len(extra)} fields, the header has {width}"
    if any("\ufffd" in v for v in row.values() if isinstance(v, str)):
        return "is not valid UTF-8"
    missing = [c for c in ROLL_COLUMNS if not (row.get(c) or "").strip()]
    if missing:
        return f"{', '.join(missing)}: must not be empty"
    voter_id = row["voter_id"].strip()
    if voter_id in seen:
        return f"voter_id {voter_id!r} appears more than once on the roll"
    birth = _parse_date(row["birth_date"])
    if birth is None:
        return f"birth_date {row['birth_date']!r} is not a date (use YYYY-MM-DD)"
    registered = _parse_date(row["registered_on"])
    if registered is None:
        return f"registered_on {row['registered_on']!r} is not a date (use YYYY-MM-DD)"
    gender = GENDER_CODES.get(row["gender"].strip().lower())
    if gender is None:
        return f"gender {row['gender']!r} is not one of female, male, other, unknown"
    if row["region_id"].strip() not in precincts:
        return f"region_id {row['region_id']!r} is not a precinct of this election"
    party = (row.get(PARTY_CSV_COLUMN) or "").strip()
    if party and party not in roll.parties:
        return f"party {row[PARTY_CSV_COLUMN]!r} is not a party of this election"
    if _age_on(roll.election_day, birth) < roll.voting_age:
        return (f"under the voting age of {roll.voting_age} on election day "
                f"{roll.election_day.isoformat()}")
    if registered > roll.election_day:
        return f"registered_on {registered.isoformat()} is after election day"
    if registered < birth:
        return "registered_on is before birth_date"
    row.update(voter_id=voter_id, full_name=row["full_name"].strip(), birth_date=birth,
               registered_on=registered, gender=gender, region_id=row["region_id"].strip(),
               party_id=party or None)
    seen.add(voter_id)
    return None


def _raw_text(values: Iterable[str | None]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(["" if v is None else v for v in values])
    return buffer.getvalue()


def import_roll(
    url: str,
    election_id: str,
    path: str | Path,
    *,
    credentials_sink: CredentialsSink | None = None,
    progress: Progress | None = None,
    actor: str = "api",
) -> ImportReport:
    """Add the voters of a CSV file (header: :data:`ROLL_COLUMNS`, and optionally
    ``party``: a party id, empty for none) to an election's roll.

    Rows that cannot be loaded go to ``quarantined_registrations`` with their line number
    and reason; the good rows load. Nothing is dropped silently.
    """
    path = Path(path)
    if not path.is_file():
        raise RollFileError(f"{path}: no such file")
    report = ImportReport(source_name=path.name)
    with db.connection(url) as conn, conn.cursor() as cur:
        roll = election_roll(cur, election_id)
        require_editable(roll)
        cur.execute(db.query("roll_voter_ids"), {"election_id": election_id})
        seen = {voter_id for (voter_id,) in cur}
    precincts = {p.region_id for p in roll.precincts}

    good, bad = [], []
    with path.open(newline="", encoding="utf-8-sig", errors="replace") as handle:
        reader = csv.DictReader(handle)
        header = [h.strip() for h in (reader.fieldnames or [])]
        missing = [c for c in ROLL_COLUMNS if c not in header]
        if missing:
            raise RollFileError(
                f"{path.name}: missing column(s) {', '.join(missing)}; the header must have "
                f"{', '.join(ROLL_COLUMNS)}"
            )
        reader.fieldnames = header
        for row in reader:
            raw = _raw_text([row[h] for h in header] + list(row.get(None) or []))
            problem = _row_problem(row, len(header), roll, precincts, seen)
            if problem:
                bad.append((reader.line_num, raw, problem))
            else:
                good.append({c: row[c] for c in (*ROLL_COLUMNS, PARTY_COLUMN)})

    if bad:
        with db.connection(url) as conn, conn.cursor() as cur:
            execute_values(
                cur,
                db.query("insert_quarantined_registrations"),
                [(election_id, path.name, line, raw, reason) for line, raw, reason in bad],
            )
    report.quarantined = [(line, reason) for line, _raw, reason in bad]
    frame = pd.DataFrame(good, columns=[*ROLL_COLUMNS, PARTY_COLUMN])
    report.loaded = load_roll(url, election_id, frame, credentials_sink=credentials_sink,
                              progress=progress, actor=actor, action="import_roll")
    return report
