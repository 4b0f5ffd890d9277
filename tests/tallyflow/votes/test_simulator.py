"""The load simulator: realistic, seeded ballots, an adversarial mix the tally accounts for
event by event, and a stop when told."""

from __future__ import annotations

import json
import random
import threading
from datetime import UTC, datetime

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
    SimulationReport,
    _Ballots,
    day_curve,
    read_credentials,
    simulate,
)
from tests.conftest import open_for_voting

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


STYLED = [
    ContestRule("mayor", "plurality", ("ann", "bob"), 1),
    ContestRule("ward-1-council", "plurality", ("cy", "dee"), 1,
                regions=frozenset({"ward-1", "w1-a"})),
    ContestRule("civic-primary", "plurality", ("eve", "fay"), 1, party="civic"),
]
STYLES = {"v1": ("w1-a", "civic"), "v2": ("w2-a", None), "v3": ("w1-a", None),
          "v4": ("w2-a", "greens")}


def _styled_ballots(seed: int) -> _Ballots:
    credentials = {voter: f"{n:032x}" for n, voter in enumerate(STYLES)}
    times = {"opens_at": datetime(2026, 11, 3, 7, tzinfo=UTC),
             "closes_at": datetime(2026, 11, 3, 19, tzinfo=UTC)}
    return _Ballots("e", list(STYLES), credentials, STYLES, STYLED, times,
                    random.Random(seed))


@pytest.mark.fast
def test_a_simulated_ballot_has_only_the_contests_of_its_voters_precinct_and_party():
    ballots = _styled_ballots(1)

    on_ballot = {voter: {c.contest_id for c in ballots.valid(voter).contests}
                 for voter in STYLES}

    assert on_ballot == {"v1": {"mayor", "ward-1-council", "civic-primary"},
                         "v2": {"mayor"}, "v3": {"mayor", "ward-1-council"},
                         "v4": {"mayor"}}


@pytest.mark.fast
def test_vote_methods_follow_the_mix_and_the_seed():
    def methods(seed: int) -> list[str]:
        ballots = _styled_ballots(seed)
        return [ballots.valid(f"v{1 + n % 4}").channel for n in range(4_000)]

    drawn = methods(2)
    assert drawn == methods(2) and drawn != methods(3)
    shares = {method: drawn.count(method) / len(drawn) for method in set(drawn)}
    assert set(shares) == {"in_person", "mail", "online"}
    assert abs(shares["in_person"] - 0.55) < 0.03 and abs(shares["mail"] - 0.30) < 0.03


@pytest.mark.fast
def test_an_off_ballot_event_is_its_voters_ballot_and_a_contest_not_on_it():
    ballots = _styled_ballots(4)
    report = SimulationReport(invalid={k: 0 for k in INVALID_KINDS})

    events = [json.loads(ballots.marking_off_ballot()[1]) for _ in range(50)]
    for _ in range(200):
        ballots.next(1.0, report)

    assert report.invalid["off_ballot"] > 0  # one of the bad kinds in this election

    for event in events:
        assert event_problem(event) is None
        voter = next(v for v, c in ballots.credentials.items() if c == event["credential"])
        off = [c["contest_id"] for c in event["contests"]
               if not next(rule for rule in STYLED
                           if rule.contest_id == c["contest_id"]).on_ballot(*STYLES[voter])]
        assert len(off) == 1
    assert ballots.off_ballot == {"ward-1-council": ["v2", "v4"], "civic-primary": ["v2", "v3",
                                                                                   "v4"]}


def _primary_ballot(region: str, party: str | None) -> set[str]:
    """The contests on a ballot of the two-ward primary example, written out here."""
    ward = "ward-1-council" if region.startswith("ward-1-") else "ward-2-council"
    primary = {"civic": {"civic-running-mate"}, "greens": {"greens-committee"}}.get(party, set())
    return {"mayor", "library-bond", ward} | primary


def test_simulated_ballots_keep_to_each_voters_ballot_style_and_mix_vote_methods(
        postgres_url, kafka_bootstrap, topic, new_election, tmp_path):
    election = new_election("two-ward-primary.json")
    issued = dict(open_for_voting(postgres_url, election.election_id, 300, 5, tmp_path))
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id, party_id from voters where election_id = %s",
                    (election.election_id,))
        styles = {issued[voter]: (region, party) for voter, region, party in cur.fetchall()}

    report = simulate(postgres_url, kafka_bootstrap, topic, election.election_id, issued,
                      rate=5_000, count=250, seed=3)

    events = [json.loads(value) for value in read_all(kafka_bootstrap, topic, [0, 1, 2, 3])]
    assert report.sent == len(events) == 250
    for event in events:
        assert {c["contest_id"] for c in event["contests"]} == \
            _primary_ballot(*styles[event["credential"]])
    assert {event["channel"] for event in events} == {"in_person", "mail", "online"}
    primaries = [e for e in events if {c["contest_id"] for c in e["contests"]} & {
        "civic-running-mate", "greens-committee"}]
    assert 100 < len(primaries) < 250  # about 70 % of the voters are in a primary


def test_off_ballot_marks_of_a_primary_election_are_recorded_and_the_rest_counted(
        spark, postgres_url, kafka_bootstrap, topic, open_primary):
    election, voters = open_primary
    credentials = {voter: credential for voter, credential, _region, _party in voters}

    report = simulate(postgres_url, kafka_bootstrap, topic, election.election_id,
                      credentials, rate=5_000, count=300, invalid_ratio=0.3, seed=12)
    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, [0, 1, 2, 3], seconds=120,
                      stop_when_idle=True, say=lambda _m: None)

    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from checkins where election_id = %s",
                    (election.election_id,))
        (counted,) = cur.fetchone()
        cur.execute("select count(*) from rejected_events where topic = %s", (topic,))
        (rejected,) = cur.fetchone()
        cur.execute("select coalesce(sum(off_ballot_ballots), 0) from contest_ballot_totals "
                    "where election_id = %s", (election.election_id,))
        (off_ballot,) = cur.fetchone()
    assert counted + rejected == 300
    assert report.invalid["off_ballot"] > 0
    # A mark off a voter's ballot is recorded unless the ballot is refused as a whole (a
    # second ballot of its voter).
    assert 0 < off_ballot <= report.invalid["off_ballot"]
