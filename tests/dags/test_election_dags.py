"""The election DAGs (create, validate, open, tally), run with dag.test() on the real services."""

from __future__ import annotations

import uuid

import pytest

from tallyflow import db
from tallyflow.elections import lifecycle, store
from tests.dags.conftest import load_dag, task_states


@pytest.fixture
def form() -> dict:
    return {
        "title": "Harbour City Mayor",
        "election_id": f"dag-{uuid.uuid4().hex[:10]}",
        "contest_title": "Mayor",
        "candidates": ["Ada Okafor | Harbour Party", "Bruno Lind | Meadow Alliance"],
        "regions": ["North > Northport | 40000", "South > Southgate | 20000"],
        "voters": 1_500,
        "seed": 11,
        "write_credentials": True,  # allowed: a test-mode election
        "test_mode": True,
    }


def test_create_election_from_the_trigger_form(airflow_db, services_env, services_settings,
                                               postgres_url, form):
    run = load_dag("create_election").test(run_conf=form)

    assert run.state == "success", task_states(run)
    election = store.get_election(postgres_url, form["election_id"])
    assert election["status"] == "scheduled"
    assert election["registered_voters"] == 1_500
    assert {r["suite_name"]: r["is_passed"] for r in election["validation_runs"]} == {
        "parties": True, "candidates": True, "regions": True, "voters": True
    }
    credentials = services_settings.home / "credentials" / f"{form['election_id']}.csv"
    assert len(credentials.read_text().splitlines()) == 1 + 1_500
    assert oct(credentials.stat().st_mode & 0o777) == "0o600"


def test_the_form_refuses_a_single_candidate(airflow_db, services_env, form):
    from airflow.sdk.definitions.param import ParamValidationError

    form["candidates"] = ["Only One"]

    with pytest.raises(ParamValidationError, match="candidates"):
        load_dag("create_election").test(run_conf=form)


def test_a_bad_form_fails_at_the_definition_check_and_stores_nothing(
    airflow_db, services_env, postgres_url, form
):
    form["opens_at"] = "2026-11-22T10:00:00Z"
    form["closes_at"] = "2026-11-22T09:00:00Z"

    run = load_dag("create_election").test(run_conf=form)

    assert run.state == "failed"
    assert task_states(run)["check_definition"] == "failed"
    with pytest.raises(store.UnknownElection):
        store.get_election(postgres_url, form["election_id"])


def test_validate_registrations_on_demand_and_open_elections(
    airflow_db, services_env, postgres_url, new_election
):
    from tallyflow.registrations.roll import seed_registrations

    election = new_election()
    lifecycle.schedule_election(postgres_url, election.election_id)
    seed_registrations(postgres_url, election.election_id, 300, seed=2)

    checked = load_dag("validate_registrations").test(run_conf={"election_id": election.election_id})

    assert checked.state == "success", task_states(checked)
    opened = load_dag("open_elections").test()
    assert opened.state == "success", task_states(opened)
    assert store.get_election(postgres_url, election.election_id)["status"] == "open"


def test_validate_registrations_fails_on_a_defective_roll(
    airflow_db, services_env, postgres_url, new_election
):
    from tallyflow.registrations.roll import seed_registrations

    election = new_election()
    seed_registrations(postgres_url, election.election_id, 100, seed=3)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update voters set region_id = 'north' where election_id = %s "
                    "and voter_id = 'V0000001'", (election.election_id,))

    run = load_dag("validate_registrations").test(run_conf={"election_id": election.election_id})

    assert run.state == "failed"
    latest = {r["suite_name"]: r for r in
              store.get_election(postgres_url, election.election_id)["validation_runs"]}
    assert latest["voters"]["is_passed"] is False
    # A count, never a sample of the roll: the summary names no voter's values.
    assert latest["voters"]["failures"][0]["summary"] == (
        "voters are registered in a precinct of this election: 1 of 100 rows"
    )


def test_tally_votes_drains_the_votes_topic(airflow_db, services_env, services_settings,
                                            postgres_url, kafka_bootstrap, new_election,
                                            tmp_path):
    from confluent_kafka import Producer

    from tallyflow.elections.lifecycle import close_election
    from tallyflow.votes.event import VoteEvent
    from tests.conftest import open_for_voting

    election = new_election()
    issued = open_for_voting(postgres_url, election.election_id, 50, 1, tmp_path)
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for _voter, credential in issued[:30]:
        event = VoteEvent.ballot(election.election_id, credential, "north-1",
                                 {"president": ["chen-wei"]})
        producer.produce(services_settings.votes_topic, event.to_json(), key=event.key)
    assert producer.flush(30) == 0

    run = load_dag("tally_votes").test(run_conf={"drain": True, "seconds": 120})

    # The election is open: its ballots are counted in groups of TALLYFLOW_BALLOT_GROUP (5,
    # the default) per precinct, leaving at least as many for the next group.
    assert run.state == "success", task_states(run)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s",
                    (election.election_id,))
        (option, votes), = cur.fetchall()
    assert option == "chen-wei" and 5 <= votes <= 25

    # Closed, the rest is counted.
    close_election(postgres_url, election.election_id, actor="test")
    run = load_dag("tally_votes").test(run_conf={"drain": True, "seconds": 120})
    assert run.state == "success", task_states(run)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s",
                    (election.election_id,))
        assert cur.fetchall() == [("chen-wei", 30)]
