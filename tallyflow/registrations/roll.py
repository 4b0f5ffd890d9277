"""The voter roll: load it with COPY, seed it, issue credentials, fingerprint it (a CSV
file is imported by :mod:`tallyflow.registrations.roll_import`).

Credentials are 128 random bits written as 32 hex characters. Only their SHA-256 is stored;
plaintext goes only to a ``credentials_sink`` the caller provides (a file for the simulator
and tests; a mailing run in a real deployment).

A voter may be affiliated with a party (``party_id``; null: none), for party primaries:
seeding affiliates voters when the election holds a primary, and an imported file may have
a ``party`` column. Whenever the roll is loaded, each region's registered voters and each
contest's electorate (the voters whose ballot carries it) are counted again.

The roll's fingerprint is the SHA-256 of its canonical text: one tab-separated line per
voter (voter_id, full_name, birth_date, gender, region_id, registered_on, in PostgreSQL's
text COPY format; a 7th field, the party, only for a voter affiliated with one), ordered
by voter_id byte by byte. A roll without affiliations has the fingerprint it had before
parties were part of the roll. Credentials are not part of it, so the same seed gives the
same fingerprint.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date
from pathlib import Path

import pandas as pd
from psycopg2.extras import execute_values

from tallyflow import db
from tallyflow.elections.audit import record_audit
from tallyflow.elections.layout import ballot_layouts
from tallyflow.elections.store import ElectionNotReady, UnknownElection
from tallyflow.registrations.synthetic import (
    PARTY_COLUMN,
    ROLL_COLUMNS,
    PrecinctWeight,
    synthetic_roll,
)
from tallyflow.votes.event import credential_sha256

CHUNK_ROWS = 100_000

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
    parties: frozenset[str] = frozenset()  # a voter may be affiliated with one of these
    primary_parties: tuple[str, ...] = ()  # the parties holding a primary


def election_roll(cur, election_id: str) -> ElectionRoll:
    cur.execute(db.query("election_for_roll"), {"election_id": election_id})
    row = cur.fetchone()
    if row is None:
        raise UnknownElection(election_id)
    status, opens_at, voting_age = row
    cur.execute(db.query("precincts"), {"election_id": election_id})
    precincts = tuple(PrecinctWeight(region_id, population) for region_id, population in cur)
    cur.execute(db.query("election_party_ids"), {"election_id": election_id})
    parties = frozenset(party_id for (party_id,) in cur)
    cur.execute(db.query("primary_party_ids"), {"election_id": election_id})
    primary_parties = tuple(party_id for (party_id,) in cur)
    return ElectionRoll(election_id, status, opens_at.astimezone(UTC).date(), voting_age,
                        precincts, parties, primary_parties)


def require_editable(roll: ElectionRoll) -> None:
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
    # An empty field is null: no party.
    frame[PARTY_COLUMN] = voters.get(PARTY_COLUMN)
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
    """Add ``voters`` (columns :data:`ROLL_COLUMNS`, and optionally :data:`PARTY_COLUMN`)
    to an election's roll in one transaction.

    With ``replace`` the existing roll is deleted first. Each region's registered count and
    each contest's electorate are recounted from the roll. Returns the number of voters
    loaded.
    """
    total = len(voters)
    with db.connection(url) as conn, conn.cursor() as cur:
        roll = election_roll(cur, election_id)
        require_editable(roll)
        cur.execute(db.query("lock_roll"), {"election_id": election_id})
        if replace:
            cur.execute(db.query("delete_roll"), {"election_id": election_id})
        for start in range(0, total, CHUNK_ROWS):
            _copy_voters(cur, election_id, voters.iloc[start : start + CHUNK_ROWS],
                         credentials_sink)
            if progress:
                progress(min(start + CHUNK_ROWS, total), total)
        cur.execute(db.query("set_registered_counts"), {"election_id": election_id})
        count_contest_electorates(cur, election_id)
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
        require_editable(roll)
        cur.execute(db.query("registered_voters"), {"election_id": election_id})
        existing = cur.fetchone()[0]
    if existing and not replace:
        raise ElectionNotReady(
            f"election {election_id!r} already has {existing:,} registered voters; "
            f"seed with replace (--replace) to start over"
        )
    frame = synthetic_roll(roll.precincts, voters, election_day=roll.election_day,
                           voting_age=roll.voting_age, seed=seed,
                           primary_parties=roll.primary_parties)
    return load_roll(url, election_id, frame, replace=replace, credentials_sink=credentials_sink,
                     progress=progress, actor=actor, action="seed")


def count_contest_electorates(cur, election_id: str) -> None:
    """Set each contest's ``registered_voters``: the voters on the roll whose ballot carries
    it, by the one rule of ballot styles (``ContestLayout.on_ballot``)."""
    contests = ballot_layouts(cur, [election_id]).get(election_id, [])
    cur.execute(db.query("roll_ballot_styles"), {"election_id": election_id})
    styles = cur.fetchall()
    execute_values(cur, db.query("set_contest_electorates"), [
        (election_id, contest.contest_id,
         sum(voters for region_id, party_id, voters in styles
             if contest.on_ballot(region_id, party_id)))
        for contest in contests])


class _CanonicalRollDigest:
    """SHA-256 of the canonical roll, from ``canonical_roll``'s COPY text: a line whose 7th
    field, the party, is null (``\\N``) is hashed without it."""

    NO_PARTY = b"\t\\N\n"

    def __init__(self) -> None:
        self.digest = hashlib.sha256()
        self.partial = b""

    def write(self, chunk: bytes | str) -> int:
        text = self.partial + (chunk.encode() if isinstance(chunk, str) else chunk)
        lines = text.split(b"\n")
        self.partial = lines.pop()
        for line in lines:
            line += b"\n"
            if line.endswith(self.NO_PARTY):
                line = line[: -len(self.NO_PARTY)] + b"\n"
            self.digest.update(line)
        return len(chunk)


def roll_fingerprint(url: str, election_id: str) -> str:
    """SHA-256 (hex) of the canonical voter roll; see the module docstring."""
    writer = _CanonicalRollDigest()
    with db.connection(url) as conn, conn.cursor() as cur:
        statement = cur.mogrify(db.query("canonical_roll"), {"election_id": election_id})
        cur.copy_expert(statement.decode(), writer)
    return writer.digest.hexdigest()


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
