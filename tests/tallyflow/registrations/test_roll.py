"""The voter roll in Postgres: seeding, credentials, counts, CSV import with quarantine."""

from __future__ import annotations

import hashlib

import pytest

from tallyflow import db
from tallyflow.elections.store import ElectionNotReady
from tallyflow.registrations.roll import roll_fingerprint, seed_registrations
from tallyflow.registrations.roll_import import RollFileError, import_roll


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


def _canonical_text(url: str, election_id: str) -> bytes:
    """The canonical roll written out here, line by line (seeded names need no escaping):
    six fields, and the party as a 7th only for an affiliated voter."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, full_name, birth_date, gender, region_id, registered_on, "
                    "party_id from voters where election_id = %s order by voter_id collate \"C\"",
                    (election_id,))
        rows = cur.fetchall()
    return b"".join(
        ("\t".join([voter, name, born.isoformat(), gender, region, registered.isoformat()]
                   + ([party] if party else [])) + "\n").encode()
        for voter, name, born, gender, region, registered, party in rows)


def test_a_roll_without_parties_keeps_its_six_field_fingerprint(postgres_url, new_election):
    election = new_election()
    seed_registrations(postgres_url, election.election_id, 300, seed=4)

    text = _canonical_text(postgres_url, election.election_id)

    assert text.count(b"\n") == 300 and all(line.count(b"\t") == 5
                                            for line in text.splitlines())
    assert roll_fingerprint(postgres_url, election.election_id) == \
        hashlib.sha256(text).hexdigest()


def _contest_electorates(url: str, election_id: str) -> dict[str, int]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select contest_id, registered_voters from contests where election_id = %s",
                    (election_id,))
        return dict(cur.fetchall())


def _voters_by(url: str, election_id: str, column: str) -> dict:
    """Voters per party (``party_id``) or per precinct (``region_id``)."""
    statement = {"party_id": "select party_id, count(*) from voters where election_id = %s "
                             "group by party_id",
                 "region_id": "select region_id, count(*) from voters where election_id = %s "
                              "group by region_id"}[column]
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(statement, (election_id,))
        return dict(cur.fetchall())


def test_a_roll_with_primaries_affiliates_voters_and_counts_each_contests_electorate(
        postgres_url, new_election):
    election = new_election("two-ward-primary.json")
    eid = election.election_id

    seed_registrations(postgres_url, eid, 2_000, seed=3)

    parties = _voters_by(postgres_url, eid, "party_id")
    assert set(parties) == {"civic", "greens", None}  # no Workers' Party primary
    assert 600 < parties["civic"] < 800 and 600 < parties["greens"] < 800
    assert sum(parties.values()) == 2_000
    precincts = _voters_by(postgres_url, eid, "region_id")
    ward_1 = precincts["ward-1-a"] + precincts["ward-1-b"]
    assert _contest_electorates(postgres_url, eid) == {
        "mayor": 2_000, "library-bond": 2_000,
        "ward-1-council": ward_1, "ward-2-council": 2_000 - ward_1,
        "civic-running-mate": parties["civic"], "greens-committee": parties["greens"]}
    # Each affiliated voter's party is a 7th field of the canonical roll.
    text = _canonical_text(postgres_url, eid)
    assert sum(line.count(b"\t") == 6 for line in text.splitlines()) == 2_000 - parties[None]
    assert roll_fingerprint(postgres_url, eid) == hashlib.sha256(text).hexdigest()


def test_an_election_without_primaries_has_no_affiliations_and_whole_electorates(
        postgres_url, new_election):
    election = new_election("general-election.json")

    seed_registrations(postgres_url, election.election_id, 500, seed=1)

    assert _voters_by(postgres_url, election.election_id, "party_id") == {None: 500}
    assert _contest_electorates(postgres_url, election.election_id) == {
        "mayor": 500, "council": 500, "park-priorities": 500}


PARTY_ROLL_CSV = """\
voter_id,full_name,birth_date,gender,region_id,registered_on,party
P1,Ana Lopez,1980-02-01,female,ward-1-a,2010-05-01,civic
P2,Ben Stone,1975-07-30,male,ward-2-b,2001-01-01,
P3,Cy Ray,1990-01-01,female,ward-1-b,2012-01-01,pirates
P4,Dee Park,1990-01-01,female,ward-2-a,2012-01-01, greens
P5,Eve Young,1985-01-01,female,ward-2-a,2012-01-01,labour
"""


def test_an_imported_party_column_affiliates_voters_and_an_unknown_party_is_quarantined(
        postgres_url, new_election, tmp_path):
    election = new_election("two-ward-primary.json")
    eid = election.election_id
    path = tmp_path / "voters.csv"
    path.write_text(PARTY_ROLL_CSV)

    report = import_roll(postgres_url, eid, path)

    assert report.loaded == 4
    assert report.quarantined == [(4, "party 'pirates' is not a party of this election")]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, party_id from voters where election_id = %s "
                    "order by voter_id", (eid,))
        assert cur.fetchall() == [("P1", "civic"), ("P2", None), ("P4", "greens"),
                                  ("P5", "labour")]
    assert _contest_electorates(postgres_url, eid) == {
        "mayor": 4, "library-bond": 4, "ward-1-council": 1, "ward-2-council": 3,
        "civic-running-mate": 1, "greens-committee": 1}
