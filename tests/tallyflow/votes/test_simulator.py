"""The load simulator against the real broker: what it sends, and that it stops when told."""

from __future__ import annotations

import json
import threading

from tallyflow.kafka import read_all
from tallyflow.votes.simulator import simulate


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
