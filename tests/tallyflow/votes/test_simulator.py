"""The load simulator: realistic, seeded ballots, an adversarial mix the tally accounts for
event by event, and a stop when told."""

from __future__ import annotations

import json
import random
import threading

import pytest

from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.kafka import read_all
from tallyflow.votes.event import event_problem
from tallyflow.votes.simulator import (
    INVALID_KINDS,
    BallotMaker,
    ContestRule,
    SimulationError,
    day_curve,
    read_credentials,
    simulate,
)

CONTESTS = [
    ContestRule("mayor", "plurality", ("ann", "bob", "cy"), 1),
    ContestRule("council", "plurality", ("dee", "eve", "fay", "gil"), 2),
    ContestRule("parks", "approval", ("lake", "dogs", "bikes"), 3),
    ContestRule("transit", "ranked", ("tram", "bus", "rail"), 3),
]


@pytest.mark.fast
def test_the_day_has_a_morning_rise_a_lunch_dip_and_an_evening_peak_averaging_one():
    samples = [day_curve(i / 1000) for i in range(1000)]
    assert sum(samples) / len(samples) == pytest.approx(1.0, abs=1e-9)
    assert day_curve(0.8) > day_curve(0.2) > day_curve(0.0)  # the evening peak is the highest
    assert day_curve(0.5) < min(day_curve(0.2), day_curve(0.8)) / 2  # the lunch dip


@pytest.mark.fast
def test_ballots_keep_to_each_contests_options_and_limits_and_follow_the_seed():
    def ballots(seed: int) -> list[dict]:
        maker = BallotMaker(CONTESTS, random.Random(seed))
        return [maker.choices(f"p-{i % 3}") for i in range(300)]

    drawn = ballots(5)
    assert drawn == ballots(5) and drawn != ballots(6)
    for ballot in drawn:
        for rule in CONTESTS:
            picks = ballot[rule.contest_id]
            assert set(picks) <= set(rule.options) and len(picks) == len(set(picks))
            assert len(picks) <= rule.max_selections
    # Each precinct leans its own way: the mayor's leader differs between some precincts.
    leaders = {region: max(("ann", "bob", "cy"), key=lambda o, r=region: sum(
        b["mayor"] == [o] for i, b in enumerate(drawn) if f"p-{i % 3}" == r))
        for region in ("p-0", "p-1", "p-2")}
    assert len(set(leaders.values())) > 1


@pytest.mark.fast
def test_a_missing_credentials_file_and_bad_arguments_are_clear_errors(tmp_path):
    with pytest.raises(SimulationError, match="no credentials file"):
        read_credentials(tmp_path / "credentials.csv")
    for bad in ({"rate": 0, "count": 1}, {"rate": 10, "count": -1},
                {"rate": 10, "count": 1, "invalid_ratio": 1.5}):
        with pytest.raises(SimulationError, match="rate must be positive"):
            simulate("postgresql://unused", "unused:9092", "t", "e", {}, **bad)


def test_every_simulated_event_is_counted_or_rejected_with_a_reason(
        spark, postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    credentials = {voter: credential for voter, credential, _region in voters}

    report = simulate(postgres_url, kafka_bootstrap, topic, election.election_id,
                      credentials, rate=5_000, count=300, invalid_ratio=0.25, seed=11)

    assert (report.sent, report.failed) == (300, 0)
    assert set(report.invalid) == set(INVALID_KINDS) and 40 < sum(report.invalid.values()) < 110
    events = read_all(kafka_bootstrap, topic, [0, 1, 2, 3])
    assert len(events) == 300
    well_formed = [json.loads(value) for value in events if _reads(value)]
    assert len(events) - len(well_formed) == report.invalid["malformed"]
    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], seconds=120,
                      stop_when_idle=True, say=lambda _m: None)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*), count(distinct voter_id) from checkins "
                    "where election_id = %s", (election.election_id,))
        counted, voters_counted = cur.fetchone()
        cur.execute("select reason, count(*) from rejected_events where topic = %s "
                    "group by reason", (topic,))
        rejected = dict(cur.fetchall())
    assert counted == voters_counted  # one ballot per voter
    assert counted + sum(rejected.values()) == 300
    assert rejected["malformed"] == report.invalid["malformed"]
    assert rejected.get("unknown_credential", 0) == report.invalid["unknown_credential"]
    assert counted >= 300 - sum(report.invalid.values())


def _reads(value: bytes) -> bool:
    try:
        return event_problem(json.loads(value)) is None
    except ValueError:
        return False


def test_the_simulator_sends_one_ballot_per_voter_and_the_invalid_share_asked(
        postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    credentials = {voter: credential for voter, credential, _region in voters}

    report = simulate(postgres_url, kafka_bootstrap, topic, election.election_id, credentials,
                      rate=5_000, count=300, invalid_ratio=0.1, seed=7)

    events = read_all(kafka_bootstrap, topic, [0, 1, 2, 3])
    assert report.sent == len(events) == 300 and report.failed == 0
    invalid = sum(report.invalid.values())
    assert 10 <= invalid <= 60
    issued = set(credentials.values())
    voted = set()
    for value in events:
        try:
            event = json.loads(value)
        except ValueError:
            continue  # a malformed event, sent on purpose
        if isinstance(event, dict) and event.get("credential") in issued:
            voted.add(event["credential"])
    assert len(voted) >= 300 - invalid  # every valid ballot is a different voter


def test_the_simulator_stops_when_told_and_flushes_what_it_sent(
        postgres_url, kafka_bootstrap, topic, open_election):
    election, voters = open_election
    credentials = {voter: credential for voter, credential, _region in voters}
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()

    report = simulate(postgres_url, kafka_bootstrap, topic, election.election_id, credentials,
                      rate=50, count=400, seed=7, stop=stop)

    assert 0 < report.sent < 400
    assert len(read_all(kafka_bootstrap, topic, [0, 1, 2, 3])) == report.sent
