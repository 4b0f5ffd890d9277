"""A load simulator: realistic ballots from seeded voters, with an optional adversarial mix.

- Each voter votes at most once, in a random order, with the credential that registration
  seeding wrote, on their own ballot: the contests of their precinct and party
  (``tallyflow.elections.layout.ballot_of``).
- Each ballot is cast by a vote method drawn from :data:`VOTE_METHODS` (the event's
  ``channel``): 55 % in person, 30 % by mail, 15 % online.
- Preferences differ by region: each precinct has its own leaning per contest, drawn from
  the seed, so maps and regional tables have something to show.
- The sending rate follows a voting-day curve squeezed into the run: a morning rise, a
  lunch dip and an evening peak, averaging the requested rate.
- ``invalid_ratio`` of the events are bad on purpose, spread over: malformed JSON, unknown
  credentials, unknown options, overvotes, second ballots, ballots that claim to come
  before the opening or after the closing (a backdating attempt: the tally judges them by
  the broker's time, so they count or are rejected like any other ballot sent now) and,
  in an election with district contests or primaries, ballots that also mark a contest
  not on their voter's ballot (the tally records that mark as ``off_ballot`` and counts
  the rest).
"""

from __future__ import annotations

import csv
import json
import math
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from tallyflow import db
from tallyflow.elections.layout import ContestLayout, ballot_layouts, ballot_of
from tallyflow.elections.store import UnknownElection
from tallyflow.votes.event import VoteEvent

INVALID_KINDS = ("malformed", "unknown_credential", "unknown_option", "overvote", "duplicate",
                 "not_open", "closed", "off_ballot")
# How simulated voters cast their ballots (the event's channel), and how often.
VOTE_METHODS = (("in_person", 0.55), ("mail", 0.30), ("online", 0.15))


class SimulationError(ValueError):
    """The simulation cannot run as asked; the message says why."""


# What the simulator draws a contest's ballots from.
ContestRule = ContestLayout


# Ballots wait up to this long to go out together. The embedded broker (Tansu, in memory)
# spends time on every stored produce batch at each fetch: at 200 ballots/s in batches of
# one, it stops answering after about 90,000 batches (measured; a real Kafka does not care).
LINGER_MS = 250


@dataclass
class SimulationReport:
    sent: int = 0
    failed: int = 0
    invalid: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0


def read_credentials(path: Path) -> dict[str, str]:
    """voter_id -> credential from a ``voter_id,credential`` file."""
    if not path.is_file():
        raise SimulationError(
            f"{path}: no credentials file; seed with --credentials-out, or create the election "
            f"from Airflow, which writes one"
        )
    with path.open(newline="") as handle:
        return {row["voter_id"]: row["credential"] for row in csv.DictReader(handle)}


# A voter's ballot style on the roll: their precinct and party (None: no affiliation).
Style = tuple[str, str | None]


def _election(url: str, election_id: str) -> tuple[dict, list[ContestRule], dict[str, Style]]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("election_times"), {"election_id": election_id})
        row = cur.fetchone()
        if row is None:
            raise UnknownElection(election_id)
        contests = ballot_layouts(cur, [election_id]).get(election_id, [])
        cur.execute(db.query("roll_voter_regions"), {"election_id": election_id})
        styles = {voter: (region, party) for voter, region, party in cur.fetchall()}
    return {"opens_at": row[0], "closes_at": row[1]}, contests, styles


class BallotMaker:
    """Draws a region's ballots from that region's leanings."""

    def __init__(self, contests: list[ContestRule], rng: random.Random) -> None:
        self.contests = contests
        self.rng = rng
        self.leanings: dict[tuple[str, str], list[float]] = {}

    def _weights(self, region: str, contest: ContestRule) -> list[float]:
        key = (region, contest.contest_id)
        if key not in self.leanings:
            self.leanings[key] = [self.rng.gammavariate(2.0, 1.0) for _ in contest.options]
        return self.leanings[key]

    def choices(self, region: str,
                contests: list[ContestRule] | None = None) -> dict[str, list[str]]:
        """Marks for ``contests`` (default: every contest) as a voter of ``region``."""
        ballot = {}
        for contest in self.contests if contests is None else contests:
            weights = self._weights(region, contest)
            if self.rng.random() < 0.02:  # a blank contest now and then
                ballot[contest.contest_id] = []
            elif contest.kind == "approval":
                top = max(weights)
                ballot[contest.contest_id] = [o for o, w in zip(contest.options, weights,
                                                                strict=True)
                                              if self.rng.random() < 0.7 * w / top]
            elif contest.kind == "ranked":
                order = sorted(contest.options,
                               key=lambda o: -self.rng.random() ** (1 / weights[
                                   contest.options.index(o)]))
                ballot[contest.contest_id] = order[: self.rng.randint(1, len(order))]
            else:
                picks: list[str] = []
                seats = contest.max_selections if self.rng.random() > 0.1 else 1
                while len(picks) < seats:
                    pick = self.rng.choices(contest.options, weights)[0]
                    if pick not in picks:
                        picks.append(pick)
                ballot[contest.contest_id] = picks
        return ballot


def _raw_curve(fraction: float) -> float:
    morning = math.exp(-((fraction - 0.2) / 0.1) ** 2)
    evening = 1.4 * math.exp(-((fraction - 0.8) / 0.12) ** 2)
    return 0.45 + 0.9 * (morning + evening)


_CURVE_MEAN = sum(_raw_curve(i / 1000) for i in range(1000)) / 1000


def day_curve(fraction: float) -> float:
    """Relative voting intensity over the day, mean 1: morning rise, lunch dip, evening peak."""
    return _raw_curve(fraction) / _CURVE_MEAN


def simulate(
    url: str,
    bootstrap: str,
    topic: str,
    election_id: str,
    credentials: dict[str, str],
    *,
    rate: float,
    count: int,
    invalid_ratio: float = 0.0,
    seed: int = 0,
    progress: Callable[[SimulationReport, int], None] | None = None,
    stop: threading.Event | None = None,
) -> SimulationReport:
    """Publish ``count`` ballot events at about ``rate`` per second, or fewer if ``stop``
    is set first (what was produced by then is flushed)."""
    from confluent_kafka import Producer

    if rate <= 0 or count < 0 or not 0 <= invalid_ratio <= 1:
        raise SimulationError("rate must be positive, count 0 or more, and the invalid ratio "
                              "between 0 and 1")
    ballots = _Ballots.for_election(url, election_id, credentials, seed)
    report = SimulationReport(invalid={k: 0 for k in INVALID_KINDS})
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": LINGER_MS, "compression.type": "lz4"})

    def delivered(error, _message) -> None:
        if error is not None:
            report.failed += 1

    start = last = last_progress = time.monotonic()
    credit = 0.0
    try:
        while report.sent < count and not ballots.everyone_voted:
            if stop is not None and stop.is_set():
                break
            now = time.monotonic()
            credit += rate * day_curve(report.sent / count) * (now - last)
            last = now
            while credit >= 1 and report.sent < count:
                credit -= 1
                drawn = ballots.next(invalid_ratio, report)
                if drawn is None:
                    break  # everyone has voted
                key, value = drawn
                producer.produce(topic, value, key=key, on_delivery=delivered)
                report.sent += 1
                producer.poll(0)
            if progress and now - last_progress >= 1.0:
                report.seconds = now - start
                progress(report, count)
                last_progress = now
            time.sleep(0.002)
    finally:
        producer.flush(30)
        report.seconds = time.monotonic() - start
    if progress:
        progress(report, count)
    return report


class _Ballots:
    """The run's next event: a voter's first ballot, or a bad one at ``invalid_ratio``."""

    def __init__(self, election_id, voters, credentials, styles, contests, times,
                 rng) -> None:
        self.election_id, self.voters, self.credentials = election_id, voters, credentials
        self.styles, self.contests, self.times = styles, contests, times
        self.rng = rng
        self.maker = BallotMaker(contests, rng)
        self.next_voter = 0
        self.cast: list[str] = []
        self._off_ballot: dict[str, list[str]] | None = None

    @classmethod
    def for_election(cls, url: str, election_id: str, credentials: dict[str, str],
                     seed: int) -> _Ballots:
        """The election's voters who have a credential here, in a seeded random order."""
        times, contests, styles = _election(url, election_id)
        rng = random.Random(seed)
        voters = [v for v in credentials if v in styles]
        if not voters:
            raise SimulationError(
                f"none of the credentials belongs to a voter of {election_id!r}")
        rng.shuffle(voters)
        return cls(election_id, voters, credentials, styles, contests, times, rng)

    def valid(self, voter: str) -> VoteEvent:
        """``voter``'s ballot: the contests on it, cast by a drawn vote method."""
        region, party = self.styles[voter]
        methods, shares = zip(*VOTE_METHODS, strict=True)
        return VoteEvent.ballot(self.election_id, self.credentials[voter], region,
                                self.maker.choices(region, ballot_of(self.contests, region,
                                                                     party)),
                                channel=self.rng.choices(methods, shares)[0])

    @property
    def off_ballot(self) -> dict[str, list[str]]:
        """Each contest that is not on some voters' ballots, and those voters (computed
        once, when first asked)."""
        if self._off_ballot is None:
            found = {c.contest_id: [v for v in self.voters
                                    if not c.on_ballot(*self.styles[v])]
                     for c in self.contests if c.regions is not None or c.party is not None}
            self._off_ballot = {contest: voters for contest, voters in found.items() if voters}
        return self._off_ballot

    @property
    def everyone_voted(self) -> bool:
        return self.next_voter >= len(self.voters)

    def next(self, invalid_ratio: float, report: SimulationReport
             ) -> tuple[bytes | None, bytes] | None:
        if self.rng.random() < invalid_ratio:
            kind = self.rng.choice([k for k in INVALID_KINDS
                                    if k != "off_ballot" or self.off_ballot])
            report.invalid[kind] += 1
            if kind == "off_ballot":
                return self.marking_off_ballot()
            return _invalid(kind, self.rng, self.election_id, self.credentials, self.styles,
                            self.voters, self.cast, self.contests, self.times, self.valid)
        if self.everyone_voted:
            return None
        voter = self.voters[self.next_voter]
        self.next_voter += 1
        self.cast.append(voter)
        event = self.valid(voter)
        return event.key, event.to_json()

    def marking_off_ballot(self) -> tuple[bytes, bytes]:
        """A voter's ballot that also marks a contest not on it."""
        contest_id = self.rng.choice(sorted(self.off_ballot))
        voter = self.rng.choice(self.off_ballot[contest_id])
        contest = next(c for c in self.contests if c.contest_id == contest_id)
        body = self.valid(voter).as_dict()
        body["contests"].append({"contest_id": contest_id,
                                 "selections": [self.rng.choice(contest.options)]})
        return body["credential"].encode(), json.dumps(body).encode()


def _invalid(kind, rng, election_id, credentials, styles, voters, cast, contests, times,
             valid) -> tuple[bytes | None, bytes]:
    voter = rng.choice(voters)
    if kind == "malformed":
        return b"garbage", rng.choice([b"{not json", b"[]", b'{"schema_version": 9}', b""])
    if kind == "unknown_credential":
        event = VoteEvent.ballot(election_id, f"{rng.getrandbits(128):032x}",
                                 styles[voter][0], {})
        return event.key, event.to_json()
    if kind == "duplicate" and cast:
        event = valid(rng.choice(cast))
        return event.key, event.to_json()
    body = valid(voter).as_dict()
    # A contest on the voter's ballot: the event is bad in this one way only.
    contest = rng.choice(ballot_of(contests, *styles[voter]) or contests)
    if kind == "unknown_option":
        body["contests"] = [{"contest_id": contest.contest_id, "selections": ["write-in"]}]
    elif kind == "overvote":
        body["contests"] = [{"contest_id": contest.contest_id,
                             "selections": list(contest.options) + list(contest.options[:1])}]
    elif kind == "not_open":
        body["received_at"] = (times["opens_at"] - timedelta(minutes=5)).isoformat()
    elif kind == "closed":
        body["received_at"] = (times["closes_at"] + timedelta(minutes=5)).isoformat()
    return body["credential"].encode(), json.dumps(body).encode()
