"""The casting API and ballot styles: a ballot that marks a contest not on its voter's ballot
is refused before anything is kept, and a voter learns which contests are on their ballot.
On the real Postgres and broker, as the casting API's own database role."""

from __future__ import annotations

import json
import uuid

import pytest

from tallyflow import db
from tallyflow.elections.layout import ContestLayout
from tallyflow.kafka import read_all
from tallyflow.votes.casting import Caster, ballot_style, off_ballot_marks

CONTESTS = [
    ContestLayout("mayor", "plurality", ("ann", "bob"), 1),
    ContestLayout("ward-1-council", "plurality", ("cy", "dee"), 1,
                  regions=frozenset({"ward-1", "ward-1-a"})),
    ContestLayout("civic-primary", "plurality", ("eve", "fay"), 1, party="civic"),
]


@pytest.mark.fast
def test_only_marked_contests_of_the_election_off_the_voters_ballot_are_named():
    marks = [{"contest_id": "mayor", "selections": ["ann"]},
             {"contest_id": "ward-1-council", "selections": ["cy"]},
             {"contest_id": "civic-primary", "selections": []},  # left blank: no mark
             {"contest_id": "no-such-contest", "selections": ["x"]}]  # the tally's to judge

    assert off_ballot_marks(CONTESTS, "ward-2-a", None, marks) == ["ward-1-council"]
    assert off_ballot_marks(CONTESTS, "ward-1-a", "greens", marks) == []
    assert off_ballot_marks(CONTESTS, "ward-2-a", "civic",
                            [{"contest_id": "civic-primary", "selections": ["eve"]}]) == []
    assert off_ballot_marks(CONTESTS, "ward-2-a", "greens",
                            [{"contest_id": "civic-primary", "selections": ["eve"]}]) == [
        "civic-primary"]


@pytest.fixture
def casting_url(services_settings, postgres_url) -> str:
    return services_settings.role_database_url("tallyflow_casting")


def _ballot(credential: str, region: str, marks: dict[str, list[str]]) -> dict:
    return {"event_id": str(uuid.uuid4()), "credential": credential, "region_id": region,
            "contests": [{"contest_id": c, "selections": s} for c, s in marks.items()]}


def _first(voters: list[tuple], ward: str, party: str | None) -> tuple:
    return next(v for v in voters if v[2].startswith(ward) and v[3] == party)


def test_a_ballot_marking_a_contest_not_on_its_voters_ballot_is_refused_and_not_kept(
        casting_url, postgres_url, kafka_bootstrap, topic, open_primary):
    election, voters = open_primary
    eid = election.election_id
    _voter, credential, region, _party = _first(voters, "ward-1-", None)
    _civic, civic_credential, civic_region, _ = _first(voters, "ward-2-", "civic")
    caster = Caster(casting_url, kafka_bootstrap, topic)
    try:
        refused = caster.cast(eid, _ballot(credential, region, {
            "mayor": ["dana-moss"], "ward-2-council": ["june-abara"],
            "civic-running-mate": ["ivan-petrov"]}))
        left_blank = caster.cast(eid, _ballot(credential, region, {
            "mayor": ["dana-moss"], "ward-1-council": ["hana-ito"], "ward-2-council": []}))
        primary = caster.cast(eid, _ballot(civic_credential, civic_region, {
            "ward-2-council": ["lena-vogel"], "civic-running-mate": ["mira-santos"]}))
    finally:
        caster.close()

    assert refused.status == 422
    assert refused.body["title"] == "The ballot marks a contest not on this voter's ballot"
    assert refused.body["errors"] == [
        "contest 'ward-2-council' is not on this voter's ballot; nothing was kept",
        "contest 'civic-running-mate' is not on this voter's ballot; nothing was kept"]
    assert (left_blank.status, primary.status) == (202, 202)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select receipt from submissions where election_id = %s", (eid,))
        kept = {receipt for (receipt,) in cur.fetchall()}
    assert kept == {left_blank.body["receipt"], primary.body["receipt"]}
    published = [json.loads(v) for v in read_all(kafka_bootstrap, topic, [0, 1, 2, 3])]
    assert sorted(e["credential"] for e in published) == sorted([credential, civic_credential])


def _written_out_ballot(region: str, party: str | None) -> list[str]:
    """The two-ward primary example's ballot of a voter, in ballot order, written out."""
    ward = "ward-1-council" if region.startswith("ward-1-") else "ward-2-council"
    primary = {"civic": ["civic-running-mate"], "greens": ["greens-committee"]}.get(party, [])
    return ["mayor", ward, *primary, "library-bond"]


def test_a_voter_learns_the_contests_on_their_ballot(casting_url, open_primary):
    election, voters = open_primary
    eid = election.election_id
    chosen = [_first(voters, ward, party) for ward in ("ward-1-", "ward-2-")
              for party in (None, "civic", "greens")]

    answers = [ballot_style(casting_url, eid, credential)
               for _voter, credential, _region, _party in chosen]

    assert [(a.status, a.body) for a in answers] == [
        (200, {"election_id": eid, "contests": _written_out_ballot(region, party)})
        for _voter, _credential, region, party in chosen]
    unknown = ballot_style(casting_url, eid, "0" * 32)
    assert (unknown.status, unknown.body["title"]) == (403, "The credential is not on the roll")
    assert ballot_style(casting_url, "no-such-election", chosen[0][1]).status == 404
    assert ballot_style(casting_url, eid, "voter-42").status == 400


def test_the_casting_api_records_online_and_refuses_a_ballot_claiming_another_method(
        casting_url, postgres_url, kafka_bootstrap, topic, open_primary):
    election, voters = open_primary
    eid = election.election_id
    _voter, credential, region, _party = _first(voters, "ward-1-", None)
    caster = Caster(casting_url, kafka_bootstrap, topic)
    try:
        claimed = caster.cast(eid, {**_ballot(credential, region, {"mayor": ["dana-moss"]}),
                                    "channel": "mail"})
        online = caster.cast(eid, {**_ballot(credential, region, {"mayor": ["dana-moss"]}),
                                   "channel": "online"})
    finally:
        caster.close()

    assert (claimed.status, claimed.body["title"]) == (
        422, "The casting API takes online ballots only")
    assert online.status == 202
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from submissions where election_id = %s", (eid,))
        assert cur.fetchone() == (1,)  # the refused one was not kept
    published = [json.loads(v) for v in read_all(kafka_bootstrap, topic, [0, 1, 2, 3])]
    assert [e["channel"] for e in published] == ["online"]
