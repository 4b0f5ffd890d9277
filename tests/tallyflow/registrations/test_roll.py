"""The voter roll in Postgres: seeding, credentials, counts, CSV import with quarantine."""

from __future__ import annotations

import hashlib

import pytest

from tallyflow import db
from tallyflow.elections.store import ElectionNotReady
from tallyflow.registrations.roll import (
    RollFileError,
    import_roll,
    roll_fingerprint,
    seed_registrations,
)


def _scalar(url: str, statement: str, *params):
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(statement, params)
        return cur.fetchone()[0]


def test_seeding_is_deterministic_by_fingerprint(postgres_url, new_election):
    first, second, third = new_election(), new_election(), new_election()

    for election, seed in ((first, 7), (second, 7), (third, 8)):
        assert seed_registrations(postgres_url, election.election_id, 500, seed=seed) == 500

    fingerprints = [roll_fingerprint(postgres_url, e.election_id) for e in (first, second, third)]
    assert fingerprints[0] == fingerprints[1]
    assert fingerprints[0] != fingerprints[2]
    assert len(fingerprints[0]) == 64


def test_credentials_are_random_128_bit_and_only_their_hash_is_stored(postgres_url, new_election):
    election = new_election()
    issued: list[tuple[str, str]] = []

    seed_registrations(postgres_url, election.election_id, 300, seed=1,
                       credentials_sink=issued.extend)

    assert len(issued) == 300
    credentials = [credential for _voter, credential in issued]
    assert len(set(credentials)) == 300
    assert all(len(c) == 32 and int(c, 16) >= 0 for c in credentials)  # 128 bits, hex
    voter_id, credential = issued[0]
    stored = _scalar(postgres_url, "select credential_sha256 from voters "
                     "where election_id = %s and voter_id = %s", election.election_id, voter_id)
    assert bytes(stored) == hashlib.sha256(credential.encode()).digest()
    leaked = _scalar(postgres_url, "select count(*) from voters where election_id = %s and "
                     "position(%s in voters::text) > 0", election.election_id, credential)
    assert leaked == 0


def test_registered_counts_roll_up_the_region_tree(postgres_url, new_election):
    election = new_election()
    seed_registrations(postgres_url, election.election_id, 1_000, seed=2)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select region_id, registered_voters from regions where election_id = %s",
                    (election.election_id,))
        counts = dict(cur.fetchall())
    assert counts["nation"] == 1_000
    assert counts["north"] == counts["north-1"] + counts["north-2"] + counts["north-3"]
    assert sum(counts[r.region_id] for r in election.leaf_regions) == 1_000


def test_seeding_again_needs_replace(postgres_url, new_election):
    election = new_election()
    seed_registrations(postgres_url, election.election_id, 100, seed=1)

    with pytest.raises(ElectionNotReady, match="already has 100 registered voters"):
        seed_registrations(postgres_url, election.election_id, 50, seed=1)
    seed_registrations(postgres_url, election.election_id, 50, seed=1, replace=True)

    assert _scalar(postgres_url, "select count(*) from voters where election_id = %s",
                   election.election_id) == 50


ROLL_CSV = """\
voter_id,full_name,birth_date,gender,region_id,registered_on
A1,Ana Lopez,1980-02-01,F,north-1,2010-05-01
A2,Ben Stone,1975-07-30,male,south-2,2001-01-01
A3,Cy Ray,01/02/1990,female,north-1,2012-01-01
A4,Dee Park,1990-01-01,female,atlantis,2012-01-01
A5,,1990-01-01,female,north-1,2012-01-01
A1,Ana Lopez Again,1980-02-01,female,north-1,2010-05-01
A6,Eve Young,2015-01-01,female,north-1,2025-01-01
A7,Fay Cole,1960-01-01,q,north-1,2012-01-01
A8,Gus Hill,1960-01-01,male,north-1
A9,"Hal, Jr. Moss",1950-03-03,other,central-2,1990-01-01
A10,Ivy North,1970-01-01,female,nation,2000-01-01
A11,Jo Late,1970-01-01,female,north-1,2030-01-01
"""


def test_csv_import_loads_good_rows_and_quarantines_bad_ones(postgres_url, new_election, tmp_path):
    election = new_election(opens_at="2026-11-03T07:00:00Z", closes_at="+12h")
    path = tmp_path / "voters.csv"
    path.write_text(ROLL_CSV)
    issued: list[tuple[str, str]] = []

    report = import_roll(postgres_url, election.election_id, path, credentials_sink=issued.extend)

    assert report.loaded == 3
    assert report.quarantined == [
        (4, "birth_date '01/02/1990' is not a date (use YYYY-MM-DD)"),
        (5, "region_id 'atlantis' is not a precinct of this election"),
        (6, "full_name: must not be empty"),
        (7, "voter_id 'A1' appears more than once on the roll"),
        (8, "under the voting age of 18 on election day 2026-11-03"),
        (9, "gender 'q' is not one of female, male, other, unknown"),
        (10, "has 5 fields, the header has 6"),
        (12, "region_id 'nation' is not a precinct of this election"),
        (13, "registered_on 2030-01-01 is after election day"),
    ]
    assert sorted(voter for voter, _credential in issued) == ["A1", "A2", "A9"]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, full_name, gender from voters where election_id = %s "
                    "order by voter_id", (election.election_id,))
        assert cur.fetchall() == [("A1", "Ana Lopez", "female"), ("A2", "Ben Stone", "male"),
                                  ("A9", "Hal, Jr. Moss", "other")]
        cur.execute("select line_number, raw_row, reason from quarantined_registrations "
                    "where election_id = %s order by line_number", (election.election_id,))
        quarantined = cur.fetchall()
    assert len(quarantined) == 9
    assert quarantined[0] == (4, "A3,Cy Ray,01/02/1990,female,north-1,2012-01-01",
                              "birth_date '01/02/1990' is not a date (use YYYY-MM-DD)")
    assert quarantined[6][1] == "A8,Gus Hill,1960-01-01,male,north-1,"


def test_a_file_without_the_roll_columns_is_refused_whole(postgres_url, new_election, tmp_path):
    election = new_election()
    path = tmp_path / "voters.csv"
    path.write_text("id,name\n1,Ann\n")

    with pytest.raises(RollFileError, match="missing column"):
        import_roll(postgres_url, election.election_id, path)


def test_plaintext_credentials_are_written_for_test_elections_only(postgres_url, new_election,
                                                                     tmp_path):
    from tallyflow.registrations.roll import (
        CredentialsNotWritten,
        credentials_path,
        seed_with_credentials_file,
    )

    real = new_election("general-election.json")  # not in test mode
    with pytest.raises(CredentialsNotWritten, match="not in test mode"):
        seed_with_credentials_file(tmp_path, postgres_url, real.election_id, 10, 1,
                                   write_credentials=True)
    assert not credentials_path(tmp_path, real.election_id).exists()
    assert _scalar(postgres_url, "select count(*) from voters where election_id = %s",
                   real.election_id) == 0

    test = new_election("three-parties.json")  # "test_mode": true
    assert seed_with_credentials_file(tmp_path, postgres_url, test.election_id, 10, 1,
                                      write_credentials=True) == 10
    assert len(credentials_path(tmp_path, test.election_id).read_text().splitlines()) == 11
