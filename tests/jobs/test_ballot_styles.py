"""Ballot styles and vote methods end to end: the two-ward example with its party primaries
is cast, tallied live and certified on the real broker, Spark and Postgres, and matches a
count made here from the definition file alone, per contest, per precinct and per vote
method."""

from __future__ import annotations

import json
import random
from collections import Counter

import pytest
from psycopg2 import sql

from jobs.certify_election import Services, certify_election
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.votes.event import CHANNELS, VoteEvent
from tests.conftest import REPO_ROOT, open_for_voting
from tests.jobs.conftest import PARTITIONS, produce

EXAMPLE = REPO_ROOT / "examples" / "elections" / "two-ward-primary.json"
QUIET = {"say": lambda _m: None}


def _definition() -> dict:
    return json.loads(EXAMPLE.read_text())


def _on_ballot(definition: dict, contest: dict, precinct: str, party: str | None) -> bool:
    """Written here from the definition, apart from the platform's own rule."""
    parents = {r["id"]: r.get("parent") for r in definition["regions"]}
    inside, region = False, precinct
    while region is not None:
        inside = inside or region == contest.get("district", region)
        region = parents[region]
    return inside and contest.get("party") in (None, party)


def _options(contest: dict) -> list[str]:
    return ["yes", "no"] if contest["kind"] == "yes_no" else [o["id"] for o in contest["options"]]


class Count:
    """The independent count: what each ballot sent should add up to."""

    def __init__(self) -> None:
        self.option: Counter = Counter()
        self.precinct: Counter = Counter()
        self.method: Counter = Counter()
        self.ballots: Counter = Counter()
        self.blank: Counter = Counter()
        self.off_ballot: Counter = Counter()
        self.turnout_method: Counter = Counter()

    def add(self, definition: dict, precinct: str, party: str | None, channel: str,
            choices: dict[str, list[str]]) -> None:
        self.turnout_method[(precinct, channel)] += 1
        for contest in definition["contests"]:
            cid, chosen = contest["id"], choices.get(contest["id"], [])
            if not _on_ballot(definition, contest, precinct, party):
                self.off_ballot[cid] += bool(chosen)
                continue
            self.ballots[cid] += 1
            self.blank[cid] += not chosen
            for option in chosen:
                self.option[(cid, option)] += 1
                self.precinct[(cid, option, precinct)] += 1
                self.method[(cid, option, precinct, channel)] += 1


def _ballots(definition: dict, voters: list[tuple], rng: random.Random, count: Count):
    """A ballot per voter: each contest on their ballot marked (or left blank), now and
    then a contest that is not on it marked too, cast by a random method."""
    events = []
    for _voter_id, credential, precinct, party in voters:
        choices = {}
        for contest in definition["contests"]:
            most = 1 if contest["kind"] == "yes_no" else contest.get("seats", 1)
            chosen = rng.sample(_options(contest), rng.randint(0, most))
            if _on_ballot(definition, contest, precinct, party) or rng.random() < 0.15:
                choices[contest["id"]] = chosen
        channel = rng.choice(CHANNELS)
        count.add(definition, precinct, party, channel, choices)
        events.append(VoteEvent.ballot(definition["id"], credential, precinct, choices,
                                       channel=channel))
    return events


def _stored(url: str, election_id: str, table: str, columns: str) -> Counter:
    """{(keys...): count} of one election's rows of ``table``; ``columns`` names the keys
    then the count (a literal ``1`` stands for a count of one)."""
    names = [c.strip() for c in columns.split(",")]
    statement = sql.SQL("select {} from {} where election_id = %s").format(
        sql.SQL(", ").join(sql.Literal(1) if n == "1" else sql.Identifier(n) for n in names),
        sql.Identifier(table))
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(statement, (election_id,))
        return Counter({tuple(row[:-1]): row[-1] for row in cur.fetchall() if row[-1]})


def _check_live(url: str, election_id: str, count: Count) -> None:
    assert _stored(url, election_id, "option_totals", "contest_id, option_id, votes") \
        == count.option
    assert _stored(url, election_id, "option_region_totals",
                   "contest_id, option_id, region_id, votes") == count.precinct
    assert _stored(url, election_id, "option_method_totals",
                   "contest_id, option_id, region_id, vote_method, votes") == count.method
    assert _stored(url, election_id, "turnout_by_method", "region_id, vote_method, ballots") \
        == count.turnout_method
    contests = _stored(url, election_id, "contest_ballot_totals",
                       "contest_id, ballots, blank_ballots, off_ballot_ballots, 1")
    cells = {c: (count.ballots[c], count.blank[c], count.off_ballot[c])
             for c in {*count.ballots, *count.off_ballot}}
    assert {c: (b, blank, off) for (c, b, blank, off) in contests} == cells


@pytest.fixture
def two_wards(postgres_url, new_election, tmp_path):
    """The two-ward example, open now with 320 voters: (election, definition, voters as
    (voter, credential, precinct, party))."""
    election = new_election("two-ward-primary.json")
    issued = open_for_voting(postgres_url, election.election_id, 320, 21, tmp_path)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select voter_id, region_id, party_id from voters where election_id = %s",
                    (election.election_id,))
        roll = {v: (r, p) for v, r, p in cur.fetchall()}
    definition = {**_definition(), "id": election.election_id}
    return election, definition, [(v, c, *roll[v]) for v, c in issued]


def test_the_two_ward_primary_is_tallied_live_and_certified_as_counted_by_hand(
    spark, postgres_url, kafka_bootstrap, topic, two_wards, tmp_path
):
    election, definition, voters = two_wards
    eid = election.election_id
    parties = Counter(party for *_rest, party in voters)
    # The roll has primary voters of both parties and voters of neither.
    assert parties["civic"] and parties["greens"] and parties[None]
    count = Count()
    rng = random.Random(2027)
    rng.shuffle(voters)  # both halves from every precinct
    first = _ballots(definition, voters[:160], rng, count)
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in first])

    run_micro_batches(spark, postgres_url, kafka_bootstrap, topic, PARTITIONS, seconds=120,
                      stop_when_idle=True, say=lambda _m: None)

    _check_live(postgres_url, eid, count)
    assert count.off_ballot["ward-2-council"] or count.off_ballot["ward-1-council"]

    second = _ballots(definition, voters[160:], rng, count)
    produce(kafka_bootstrap, topic, [(e.key, e.to_json()) for e in second])
    services = Services(postgres_url, kafka_bootstrap, topic, PARTITIONS, spark,
                        quality_dir=tmp_path / "dq", certificates_dir=tmp_path / "certificates",
                        drain_timeout=120, **QUIET)

    certificate = certify_election(services, eid, actor="test")["certificate"]

    _check_live(postgres_url, eid, count)
    found = {(c["contest_id"], o["option_id"]): o["votes"]
             for c in certificate["contests"] for o in c["options"] if o["votes"]}
    assert found == dict(count.option)
    assert {c["contest_id"]: c["ballots"] for c in certificate["contests"]} == dict(
        count.ballots)
    # The recount from the ballots ledger agreed with the live cells, the method cells too.
    recount = certificate["reconciliation"]["recount"]
    assert recount["cells_differing"] == 0
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from recount_cells where election_id = %s "
                    "and metric = 'option_method'", (eid,))
        assert cur.fetchone()[0] == len(count.method)
        cur.execute("select contest_id, registered_voters from contests "
                    "where election_id = %s", (eid,))
        electorates = dict(cur.fetchall())
    precincts = Counter(precinct for _v, _c, precinct, _p in voters)
    by_party = Counter((precinct, party) for _v, _c, precinct, party in voters)
    assert electorates["mayor"] == len(voters)
    assert electorates["ward-1-council"] == precincts["ward-1-a"] + precincts["ward-1-b"]
    assert electorates["civic-running-mate"] == sum(
        n for (_precinct, party), n in by_party.items() if party == "civic")
