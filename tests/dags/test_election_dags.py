"""The election DAGs (create, validate, open, tally), run with dag.test() on the real services."""

from __future__ import annotations

import uuid

import pytest

from tallyflow import db
from tallyflow.elections import store
from tests.conftest import REPO_ROOT


def _dag(dag_id: str):
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{dag_id}.py")).dags[dag_id]


def _task_states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}


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
    run = _dag("create_election").test(run_conf=form)

    assert run.state == "success", _task_states(run)
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
        _dag("create_election").test(run_conf=form)


def test_a_bad_form_fails_at_the_definition_check_and_stores_nothing(
    airflow_db, services_env, postgres_url, form
):
    form["opens_at"] = "2026-11-22T10:00:00Z"
    form["closes_at"] = "2026-11-22T09:00:00Z"

    run = _dag("create_election").test(run_conf=form)

    assert run.state == "failed"
    assert _task_states(run)["check_definition"] == "failed"
    with pytest.raises(store.UnknownElection):
        store.get_election(postgres_url, form["election_id"])


def test_validate_registrations_on_demand_and_open_elections(
    airflow_db, services_env, postgres_url, new_election
):
    from tallyflow.registrations.roll import seed_registrations

    election = new_election()
    store.schedule_election(postgres_url, election.election_id)
    seed_registrations(postgres_url, election.election_id, 300, seed=2)

    checked = _dag("validate_registrations").test(run_conf={"election_id": election.election_id})

    assert checked.state == "success", _task_states(checked)
    opened = _dag("open_elections").test()
    assert opened.state == "success", _task_states(opened)
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

    run = _dag("validate_registrations").test(run_conf={"election_id": election.election_id})

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

    from tallyflow.certification import close_election
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

    run = _dag("tally_votes").test(run_conf={"drain": True, "seconds": 120})

    # The election is open: its ballots are counted in groups of TALLYFLOW_BALLOT_GROUP (5,
    # the default) per precinct, leaving at least as many for the next group.
    assert run.state == "success", _task_states(run)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s",
                    (election.election_id,))
        (option, votes), = cur.fetchall()
    assert option == "chen-wei" and 5 <= votes <= 25

    # Closed, the rest is counted.
    close_election(postgres_url, election.election_id, actor="test")
    run = _dag("tally_votes").test(run_conf={"drain": True, "seconds": 120})
    assert run.state == "success", _task_states(run)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select option_id, votes from option_totals where election_id = %s",
                    (election.election_id,))
        assert cur.fetchall() == [("chen-wei", 30)]
