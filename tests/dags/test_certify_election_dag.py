"""The certify_election DAG, run with dag.test() on the real services."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from tallyflow import db
from tallyflow.elections.lifecycle import elections_to_certify
from tests.dags.conftest import load_dag, task_states

STEPS = ["choose_election", "close", "drain", "recount", "reconcile", "tabulate", "certify"]


def test_certify_election_picks_up_a_closed_election_and_certifies_it(
    airflow_db, services_env, services_settings, postgres_url, kafka_bootstrap, new_election,
    tmp_path
):
    from tallyflow.votes.event import VoteEvent
    from tests.conftest import open_for_voting, take_in_through_the_api

    election = new_election()
    eid = election.election_id
    issued = open_for_voting(postgres_url, eid, 40, 2, tmp_path)
    # Closed long ago, so it is the first election waiting: the casting API took its
    # ballots in while it was open, and its outbox publishes them as certification drains.
    opened, closed = datetime(2001, 1, 1, 7, tzinfo=UTC), datetime(2001, 1, 1, 19, tzinfo=UTC)
    for _voter, credential in issued[:25]:
        event = VoteEvent.ballot(eid, credential, "north-1", {"president": ["chen-wei"]})
        take_in_through_the_api(postgres_url, services_settings.votes_topic, event,
                                opened + timedelta(hours=1))
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update elections set opens_at = %s, closes_at = %s "
                    "where election_id = %s", (opened, closed, eid))
        # The lifecycle's record of the opening instant moves back with it: a ballot is
        # judged against when the election was really opened.
        cur.execute("update election_audit_log set recorded_at = %s "
                    "where election_id = %s and action = 'open'", (opened, eid))
    assert elections_to_certify(postgres_url)[0] == eid

    run = load_dag("certify_election").test()

    assert run.state == "success", task_states(run)
    assert task_states(run) == dict.fromkeys(STEPS, "success")
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select status from elections where election_id = %s", (eid,))
        assert cur.fetchone() == ("certified",)
        cur.execute("select certificate_sha256 from certificates where election_id = %s",
                    (eid,))
        (digest,) = cur.fetchone()
    published = services_settings.certificates_dir / f"{eid}.json"
    text = published.read_text(encoding="utf-8").rstrip("\n")
    assert hashlib.sha256(text.encode()).hexdigest() == digest
    assert '"votes":25' in text
    assert eid not in elections_to_certify(postgres_url)

    again = load_dag("certify_election").test(run_conf={"election_id": eid})

    states = task_states(again)
    assert states.pop("choose_election") == "success"
    assert set(states.values()) == {"skipped"}  # already certified: nothing to do
