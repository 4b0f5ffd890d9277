"""The data-quality gate on the aggregates: it passes on an honest tally, and each kind of
tampering puts the election on quality hold, naming the check that failed."""

from __future__ import annotations

import pytest
from confluent_kafka import Producer

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.votes.event import VoteEvent
from tallyflow.votes.quality import check_aggregates


@pytest.fixture
def tallied(spark, postgres_url, kafka_bootstrap, topic, open_election, tmp_path):
    """30 ballots and one unknown credential, tallied with reports: (election, topic, dir)."""
    election, voters = open_election
    producer = Producer({"bootstrap.servers": kafka_bootstrap, "enable.idempotence": True})
    for _voter, credential, region in voters[:30]:
        event = VoteEvent.ballot(election.election_id, credential, region,
                                 {"mayor": ["dana-moss"], "council": ["hana-ito", "kofi-mensah"]})
        producer.produce(topic, event.to_json(), key=event.key)
    stray = VoteEvent.ballot(election.election_id, "e" * 32, "east-a", {"mayor": ["dana-moss"]})
    producer.produce(topic, stray.to_json(), key=stray.key)
    assert producer.flush(30) == 0
    said: list[str] = []
    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], seconds=120,
                      stop_when_idle=True, quality_dir=tmp_path, say=said.append)
    assert not [line for line in said if "quality hold" in line], said
    return election, topic, tmp_path


def _quality(url: str, election_id: str) -> tuple[str, list[str]]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select status, failures from result_quality where election_id = %s",
                    (election_id,))
        status, failures = cur.fetchone()
    return status, [f["summary"] for f in failures]


def test_an_honest_tally_passes_every_check_and_has_a_report(postgres_url, tallied):
    election, _topic, quality_dir = tallied

    assert _quality(postgres_url, election.election_id) == ("ok", [])
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select suite_name, is_passed, evaluated_expectations, report_url "
                    "from validation_runs where election_id = %s and suite_name like 'tally.%%' "
                    "and report_url is not null order by validation_run_id desc limit 4",
                    (election.election_id,))
        runs = cur.fetchall()
    assert sorted(r[0] for r in runs) == ["tally.accounting", "tally.contests", "tally.counts",
                                          "tally.turnout"]
    assert all(passed and evaluated >= 1 for _s, passed, evaluated, _r in runs)
    docs = quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site"
    assert all((docs / report).is_file() for *_rest, report in runs)


@pytest.mark.parametrize(
    ("tamper", "mend", "expected"),
    [
        ("update option_totals set votes = votes - 1 where election_id = %(e)s "
         "and option_id = 'dana-moss'",
         "update option_totals set votes = votes + 1 where election_id = %(e)s "
         "and option_id = 'dana-moss'",
         ["option totals = the sum of their per-region totals",
          "a counted contest gives at least one vote", "counts never decrease"]),
        ("update turnout_by_region set ballots = ballots + 100000 where election_id = %(e)s",
         "update turnout_by_region set ballots = ballots - 100000 where election_id = %(e)s",
         ["turnout ≤ registered voters"]),
        ("delete from ballots where ballot_id = (select ballot_id from ballots "
         "where election_id = %(e)s limit 1)", None,
         ["every counted ballot reaches each contest on its ballot",
          "one stored ballot per check-in"]),
        ("update rejected_events set topic = 'elsewhere' where topic = %(t)s",
         "update rejected_events set topic = %(t)s where topic = 'elsewhere'",
         ["counted + rejected + waiting events = events read"]),
    ],
    ids=["option-total-lowered", "turnout-over-registered", "ballot-deleted",
         "rejected-event-lost"],
)
def test_tampering_puts_the_results_on_quality_hold(postgres_url, tallied, tamper, mend,
                                                    expected):
    election, topic, _dir = tallied
    params = {"e": election.election_id, "t": topic}
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute(tamper, params)

    verdict = check_aggregates(postgres_url, election.election_id, topic)

    status, failures = _quality(postgres_url, election.election_id)
    assert (verdict.status, status) == ("quality_hold", "quality_hold")
    assert verdict.changed
    for check in expected:
        assert any(f.startswith(check) for f in failures), failures
    assert len(failures) == len(expected), failures
    if mend is not None:
        with db.connection(postgres_url) as conn, conn.cursor() as cur:
            cur.execute(mend, params)
        lifted = check_aggregates(postgres_url, election.election_id, topic)
        assert (lifted.status, lifted.previous_status) == ("ok", "quality_hold")
