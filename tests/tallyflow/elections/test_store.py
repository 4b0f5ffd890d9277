"""Elections in Postgres: creation, listing, and the draft → scheduled → open lifecycle."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tallyflow import db
from tallyflow.elections import lifecycle, store
from tallyflow.registrations.quality import validate_registrations
from tallyflow.registrations.roll import roll_fingerprint, seed_registrations
from tallyflow.registrations.roll_import import import_roll


def test_an_election_is_stored_with_its_contests_and_options(postgres_url, new_election):
    election = new_election("general-election.json")

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select contest_id, kind, seats, threshold from contests "
                    "where election_id = %s order by ballot_order", (election.election_id,))
        contests = cur.fetchall()
        cur.execute("select count(*) from contest_options where election_id = %s",
                    (election.election_id,))
        options = cur.fetchone()[0]
    assert contests == [("mayor", "plurality", 1, None), ("council", "plurality", 2, None),
                        ("park-priorities", "approval", 1, None)]
    assert options == 13
    listed = {e["election_id"]: e for e in store.list_elections(postgres_url)}
    assert listed[election.election_id]["status"] == "draft"
    assert listed[election.election_id]["registered_voters"] == 0


def test_a_contests_district_and_primary_party_are_stored(postgres_url, new_election):
    election = new_election("two-ward-primary.json")

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select contest_id, district_region_id, party_id, registered_voters "
                    "from contests where election_id = %s order by ballot_order",
                    (election.election_id,))
        contests = cur.fetchall()
    assert contests == [("mayor", None, None, None), ("ward-1-council", "ward-1", None, None),
                        ("ward-2-council", "ward-2", None, None),
                        ("civic-running-mate", None, "civic", None),
                        ("greens-committee", None, "greens", None),
                        ("library-bond", None, None, None)]  # no roll yet: not counted


def test_a_referendum_keeps_its_exact_threshold(postgres_url, new_election):
    election = new_election("city-referendum.yaml")

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select threshold from contests where election_id = %s",
                    (election.election_id,))
        assert cur.fetchone() == ("2/3",)


def test_ids_are_unique_and_unknown_ids_are_named(postgres_url, new_election):
    election = new_election()

    with pytest.raises(store.ElectionExists, match=f"{election.election_id!r} already exists"):
        store.create_election(postgres_url, election)
    with pytest.raises(store.UnknownElection, match="no election with id 'nope'"):
        store.get_election(postgres_url, "nope")


def test_an_election_opens_only_with_a_validated_roll_and_freezes_it(
    postgres_url, new_election, tmp_path
):
    election = new_election()
    eid = election.election_id

    with pytest.raises(store.ElectionNotReady, match="it is draft, not scheduled"):
        lifecycle.open_election(postgres_url, eid)
    lifecycle.schedule_election(postgres_url, eid)
    assert lifecycle.opening_blockers(postgres_url, eid) == [
        "it has no registered voters", "its registrations have not been validated"
    ]

    seed_registrations(postgres_url, eid, 400, seed=3)
    validate_registrations(postgres_url, eid, tmp_path)
    digest = lifecycle.open_election(postgres_url, eid, actor="test")

    opened = store.get_election(postgres_url, eid)
    assert opened["status"] == "open"
    assert opened["roll_fingerprint"] == digest == roll_fingerprint(postgres_url, eid)
    with pytest.raises(store.ElectionNotReady, match="its voter roll is frozen"):
        seed_registrations(postgres_url, eid, 10, replace=True)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select action, actor, outcome from election_audit_log "
                    "where election_id = %s order by audit_id", (eid,))
        assert cur.fetchall() == [("create", "test", "ok"), ("open", "api", "refused"),
                                  ("scheduled", "api", "ok"), ("seed", "api", "ok"),
                                  ("open", "test", "ok")]


def test_a_failed_validation_keeps_the_election_closed_and_says_why(
    postgres_url, new_election, tmp_path
):
    election = new_election()
    eid = election.election_id
    lifecycle.schedule_election(postgres_url, eid)
    seed_registrations(postgres_url, eid, 200, seed=4)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update voters set birth_date = date '2015-06-01' "
                    "where election_id = %s and voter_id = 'V0000007'", (eid,))

    validate_registrations(postgres_url, eid, tmp_path)

    with pytest.raises(store.ElectionNotReady) as refused:
        lifecycle.open_election(postgres_url, eid)
    assert "the latest voters validation" in str(refused.value)
    assert str(refused.value).endswith("voters are at least 18 on election day: 1 of 200 rows")
    assert store.get_election(postgres_url, eid)["status"] == "scheduled"


def test_a_roll_changed_after_its_check_must_be_checked_again(
    postgres_url, new_election, tmp_path
):
    election = new_election()
    eid = election.election_id
    lifecycle.schedule_election(postgres_url, eid)
    seed_registrations(postgres_url, eid, 100, seed=5)
    validate_registrations(postgres_url, eid, tmp_path)
    roll = tmp_path / "more.csv"
    roll.write_text("voter_id,full_name,birth_date,gender,region_id,registered_on\n"
                    "X1,Ann Lee,1980-01-01,female,north-1,2001-01-01\n"
                    "X2,ANN  LEE.,1980-01-01,female,north-1,2002-01-01\n")
    import_roll(postgres_url, eid, roll)

    assert lifecycle.opening_blockers(postgres_url, eid) == [
        "the registrations changed after their last validation; validate them again"
    ]
    results = {r.suite_name: r for r in validate_registrations(postgres_url, eid, tmp_path)}
    assert results["voters"].is_passed and results["voters"].warned_expectations == 1
    assert results["voters"].failures[0]["summary"].startswith(
        "no likely duplicate people (same name, birth date and region): 2 of 102 rows"
    )
    assert lifecycle.opening_blockers(postgres_url, eid) == []


def test_open_due_elections_opens_what_is_due_and_reports_what_is_not(
    postgres_url, new_election, tmp_path
):
    ready, unready, later = new_election(), new_election(), new_election(opens_at="+30m")
    for election in (ready, unready, later):
        lifecycle.schedule_election(postgres_url, election.election_id)
    seed_registrations(postgres_url, ready.election_id, 50, seed=6)
    validate_registrations(postgres_url, ready.election_id, tmp_path)

    outcomes = {o.election_id: o for o in lifecycle.open_due_elections(
        postgres_url, now=ready.opens_at + timedelta(minutes=1))}

    assert outcomes[ready.election_id].is_opened
    assert not outcomes[unready.election_id].is_opened
    assert "it has no registered voters" in outcomes[unready.election_id].detail
    assert later.election_id not in outcomes
