"""What the tally's tests share: the candidates and a scenario of events with a known
outcome."""

from __future__ import annotations

import random
from collections import Counter
from datetime import timedelta

from confluent_kafka import Producer

from tallyflow.votes.event import VoteEvent

PARTITIONS = [0, 1, 2, 3]
MAYORS = ["dana-moss", "eli-brandt", "farah-nasser", "gus-lindqvist"]
COUNCIL = ["hana-ito", "ivan-petrov", "june-abara", "kofi-mensah", "lena-vogel"]
PARKS = ["playground", "bike-paths", "lake-cleanup", "dog-park"]


def produce(bootstrap: str, topic: str, messages: list[tuple[bytes | None, bytes]]) -> None:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": 20})
    for key, value in messages:
        producer.produce(topic, value, key=key)
        producer.poll(0)
    assert producer.flush(30) == 0


def scenario(election, voters, rng: random.Random):
    """Events with a known outcome: (messages, expected option totals, rejects, counted,
    API ballots as (event, when the API took it in))."""
    eid = election.election_id
    messages, totals, rejects, counted, api = [], Counter(), Counter(), [], []

    def send(event: VoteEvent) -> None:
        messages.append((event.key, event.to_json()))

    for voter_id, credential, region in voters[:250]:
        mayor = [rng.choice(MAYORS)]
        council = rng.sample(COUNCIL, rng.choice([0, 1, 2]))
        parks = rng.sample(PARKS, rng.randint(0, 4))
        send(VoteEvent.ballot(eid, credential, region,
                              {"mayor": mayor, "council": council, "park-priorities": parks}))
        counted.append((voter_id, region))
        for contest, chosen in (("mayor", mayor), ("council", council),
                                ("park-priorities", parks)):
            for option in chosen:
                totals[(contest, option, region)] += 1
    voter_id, credential, region = voters[250]  # overvoted mayor; the council still counts
    send(VoteEvent.ballot(eid, credential, region,
                          {"mayor": MAYORS[:2], "council": ["hana-ito"]}))
    counted.append((voter_id, region))
    totals[("council", "hana-ito", region)] += 1
    voter_id, credential, region = voters[251]  # a blank ballot
    send(VoteEvent.ballot(eid, credential, region, {}))
    counted.append((voter_id, region))
    bad = voters[252:]
    send(VoteEvent.ballot(eid, "f" * 32, "east-a", {"mayor": [MAYORS[0]]}))
    rejects["unknown_credential"] += 1
    send(VoteEvent.ballot("no-such-election", bad[0][1], "east-a", {"mayor": [MAYORS[0]]}))
    rejects["unknown_election"] += 1
    send(VoteEvent.ballot(eid, bad[1][1], bad[1][2], {"sheriff": ["x"]}))
    rejects["unknown_contest"] += 1
    send(VoteEvent.ballot(eid, bad[2][1], bad[2][2], {"mayor": ["nobody"]}))
    rejects["unknown_option"] += 1
    # The casting API's record judges its ballots (``take_in_through_the_api``): one it took
    # in before the opening is not counted, however late its outbox publishes it. The time
    # an event claims is not believed: one claiming to come after the close counts.
    api.append((VoteEvent.ballot(eid, bad[3][1], bad[3][2], {"mayor": [MAYORS[1]]}),
                election.opens_at - timedelta(minutes=5)))
    rejects["not_open"] += 1
    send(VoteEvent.ballot(eid, bad[4][1], bad[4][2], {"mayor": [MAYORS[1]]},
                          received_at=election.closes_at + timedelta(minutes=5)))
    counted.append((bad[4][0], bad[4][2]))
    totals[("mayor", MAYORS[1], bad[4][2])] += 1
    messages.append((b"junk", b"{this is not json"))
    rejects["malformed"] += 1
    rng.shuffle(messages)
    for _voter_id, credential, region in voters[:20]:  # second ballots, after the first
        send(VoteEvent.ballot(eid, credential, region, {"mayor": [MAYORS[0]]}))
        rejects["duplicate"] += 1
    return messages, totals, rejects, counted, api
