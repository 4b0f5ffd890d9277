"""The voter roll: load it with COPY, import it from CSV, issue credentials, fingerprint it.

Credentials are 128 random bits written as 32 hex characters. Only their SHA-256 is stored;
plaintext goes only to a ``credentials_sink`` the caller provides (a file for the simulator
and tests; a mailing run in a real deployment).

The roll's fingerprint is the SHA-256 of its canonical text: one tab-separated line per
voter (voter_id, full_name, birth_date, gender, region_id, registered_on, in PostgreSQL's
text COPY format), ordered by voter_id byte by byte. Credentials are not part of it, so the
same seed gives the same fingerprint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date
from pathlib import Path

import pandas as pd
from psycopg2.extras import execute_values

from tallyflow import db
from tallyflow.elections.audit import record_audit
from tallyflow.elections.store import ElectionNotReady, UnknownElection
from tallyflow.registrations.synthetic import ROLL_COLUMNS, PrecinctWeight, synthetic_roll
from tallyflow.votes.event import credential_sha256

CHUNK_ROWS = 100_000
GENDER_CODES = {
    "female": "female", "f": "female",
    "male": "male", "m": "male",
    "other": "other", "x": "other",
    "unknown": "unknown", "u": "unknown",
}

Progress = Callable[[int, int], None]
CredentialsSink = Callable[[list[tuple[str, str]]], None]


def new_credentials(count: int) -> list[str]:
    """``count`` fresh credentials of 128 random bits each."""
    raw = os.urandom(16 * count)
    return [raw[i : i + 16].hex() for i in range(0, 16 * count, 16)]


@dataclass(frozen=True)
class ElectionRoll:
    """What loading a roll needs to know about its election."""

    election_id: str
    status: str
    election_day: date
    voting_age: int
    precincts: tuple[PrecinctWeight, ...]


def election_roll(cur, election_id: str) -> ElectionRoll:
    cur.execute(db.query("election_for_roll"), {"election_id": election_id})
    row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    status, opens_at, voting_age = row
    cur.execute(db.query("precincts"), {"election_id": election_id})
    precincts = tuple(PrecinctWeight(region_id, population) for region_id, population in cur)
    return ElectionRoll(election_id, status, opens_at.astimezone(UTC).date(), voting_age, precincts)


def _require_editable(roll: ElectionRoll) -> None:
    if roll.status not in ("draft", "scheduled"):
        raise ElectionNotReady(
            f"election {roll.election_id!r} is {roll.status}: its voter roll is frozen"
        )


def _copy_voters(cur, election_id: str, voters: pd.DataFrame,
                 credentials_sink: CredentialsSink | None) -> None:
    credentials = new_credentials(len(voters))
    if credentials_sink is not None:
        credentials_sink(list(zip(voters["voter_id"], credentials, strict=True)))
    frame = voters.loc[:, list(ROLL_COLUMNS)].copy()
    frame.insert(0, "election_id", election_id)
    frame["credential_sha256"] = ["\\x" + credential_sha256(c) for c in credentials]
    buffer = io.StringIO()
    frame.to_csv(buffer, header=False, index=False, date_format="%Y-%m-%d")
    buffer.seek(0)
    cur.copy_expert(db.query("copy_voters"), buffer)


def load_roll(
    url: str,
    election_id: str,
    voters: pd.DataFrame,
    *,
    replace: bool = False,
    credentials_sink: CredentialsSink | None = None,
    progress: Progress | None = None,
    actor: str = "api",
    action: str = "load_roll",
) -> int:
    """Add ``voters`` (columns :data:`ROLL_COLUMNS`) to an election's roll in one transaction.

    With ``replace`` the existing roll is deleted first. Each region's registered count is
    recounted from the roll. Returns the number of voters loaded.
    """
    total = len(voters)
    with db.connection(url) as conn, conn.cursor() as cur:
        roll = election_roll(cur, election_id)
        _require_editable(roll)
        cur.execute(db.query("lock_roll"), {"election_id": election_id})
        if replace:
            cur.execute(db.query("delete_roll"), {"election_id": election_id})
        for start in range(0, total, CHUNK_ROWS):
            _copy_voters(cur, election_id, voters.iloc[start : start + CHUNK_ROWS],
                         credentials_sink)
            if progress:
                progress(min(start + CHUNK_ROWS, total), total)
        cur.execute(db.query("set_registered_counts"), {"election_id": election_id})
        cur.execute(db.query("touch_registrations"), {"election_id": election_id})
        record_audit(cur, election_id, action, actor, "ok", {"voters": total, "replace": replace})
    return total


def seed_registrations(
    url: str,
    election_id: str,
    voters: int,
    *,
    seed: int = 0,
    replace: bool = False,
    credentials_sink: CredentialsSink | None = None,
    progress: Progress | None = None,
    actor: str = "api",
) -> int:
    """Generate a synthetic roll (see :mod:`tallyflow.registrations.synthetic`) and load it.

    An election that already has voters is refused unless ``replace``.
    """
    with db.connection(url) as conn, conn.cursor() as cur:
        roll = election_roll(cur, election_id)
        _require_editable(roll)
        cur.execute(db.query("registered_voters"), {"election_id": election_id})
        existing = cur.fetchone()[0]
    if existing and not replace:
        raise ElectionNotReady(
            f"election {election_id!r} already has {existing:,} registered voters; "
            f"seed with replace (--replace) to start over"
        )
    frame = synthetic_roll(roll.precincts, voters, election_day=roll.election_day,
                           voting_age=roll.voting_age, seed=seed)
    return load_roll(url, election_id, frame, replace=replace, credentials_sink=credentials_sink,
                     progress=progress, actor=actor, action="seed")


class _Sha256Writer:
    def __init__(self) -> None:
        self.digest = hashlib.sha256()

    def write(self, chunk: bytes | str) -> int:
        self.digest.update(chunk.encode() if isinstance(chunk, str) else chunk)
        return len(chunk)


def roll_fingerprint(url: str, election_id: str) -> str:
    """SHA-256 (hex) of the canonical voter roll; see the module docstring."""
    writer = _Sha256Writer()
    with db.connection(url) as conn, conn.cursor() as cur:
        statement = cur.mogrify(db.query("canonical_roll"), {"election_id": election_id})
        cur.copy_expert(statement.decode(), writer)
    return writer.digest.hexdigest()


# -- CSV import ---------------------------------------------------------------------------


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
    if _age_on(roll.election_day, birth) < roll.voting_age:
        return (f"under the voting age of {roll.voting_age} on election day "
                f"{roll.election_day.isoformat()}")
    if registered > roll.election_day:
        return f"registered_on {registered.isoformat()} is after election day"
    if registered < birth:
        return "registered_on is before birth_date"
    row.update(voter_id=voter_id, full_name=row["full_name"].strip(), birth_date=birth,
               registered_on=registered, gender=gender, region_id=row["region_id"].strip())
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
    """Add the voters of a CSV file (header: :data:`ROLL_COLUMNS`) to an election's roll.

    Rows that cannot be loaded go to ``quarantined_registrations`` with their line number
    and reason; the good rows load. Nothing is dropped silently.
    """
    path = Path(path)
    if not path.is_file():
        raise RollFileError(f"{path}: no such file")
    report = ImportReport(source_name=path.name)
    with db.connection(url) as conn, conn.cursor() as cur:
        roll = election_roll(cur, election_id)
        _require_editable(roll)
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
                good.append({c: row[c] for c in ROLL_COLUMNS})

    if bad:
        with db.connection(url) as conn, conn.cursor() as cur:
            execute_values(
                cur,
                db.query("insert_quarantined_registrations"),
                [(election_id, path.name, line, raw, reason) for line, raw, reason in bad],
            )
    report.quarantined = [(line, reason) for line, _raw, reason in bad]
    frame = pd.DataFrame(good, columns=list(ROLL_COLUMNS))
    report.loaded = load_roll(url, election_id, frame, credentials_sink=credentials_sink,
                              progress=progress, actor=actor, action="import_roll")
    return report


def credentials_file_sink(path: Path) -> CredentialsSink:
    """A sink appending ``voter_id,credential`` rows to ``path`` (created owner-only)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", newline="") as handle:
        handle.write("voter_id,credential\n")

    def sink(rows: list[tuple[str, str]]) -> None:
        with path.open("a", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)

    return sink


class CredentialsNotWritten(ElectionNotReady):
    """Plaintext credentials were asked for an election that is not in test mode."""


def require_test_mode(url: str, election_id: str) -> None:
    """Plaintext credentials are written to a file only for a test-mode election (its
    definition says ``"test_mode": true``): a real roll's credentials never sit on disk."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("election_is_test"), {"election_id": election_id})
        row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    if not row[0]:
        raise CredentialsNotWritten(
            f"election {election_id!r} is not in test mode: its voters' credentials are not "
            "written to a file (set \"test_mode\": true in a test election's definition)")


def credentials_path(home: Path, election_id: str) -> Path:
    """Where an Airflow-seeded election's test credentials go (for the load simulator)."""
    return home / "credentials" / f"{election_id}.csv"


def seed_with_credentials_file(home: Path, url: str, election_id: str, voters: int, seed: int,
                               *, write_credentials: bool, actor: str = "airflow") -> int:
    """Seed with progress in the log, writing credentials under ``home`` when asked."""
    import logging

    log = logging.getLogger(__name__)
    sink = None
    if write_credentials:
        require_test_mode(url, election_id)
        path = credentials_path(home, election_id)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        sink = credentials_file_sink(path)
        log.info("voter credentials go to %s", path)

    def progress(done: int, total: int) -> None:
        log.info("registered %s of %s voters (%.0f%%)", f"{done:,}", f"{total:,}",
                 100 * done / max(total, 1))

    return seed_registrations(url, election_id, voters, seed=seed, credentials_sink=sink,
                              progress=progress, actor=actor)
