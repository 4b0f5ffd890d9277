"""The vote, verify and data-quality pages: forms and answers from literal rows, and their
callbacks against the real casting API."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

import dash_app.app  # noqa: F401  (pages register with the app, so it comes first)
from dash_app.pages import quality, verify, vote
from tests.dash_app.conftest import page_text

BALLOT = {
    "election": {"election_id": "e"},
    "precincts": [{"region_id": "north-1", "name": "Northport"}],
    "contests": [
        {"contest_id": "mayor", "title": "Mayor", "kind": "plurality", "seats": 1,
         "options": [{"option_id": "ann", "name": "<b>Ann</b>", "party": "Harbour"}]},
        {"contest_id": "council", "title": "Council", "kind": "plurality", "seats": 2,
         "options": [{"option_id": "a", "name": "A", "party": None}]},
        {"contest_id": "chair", "title": "Chair", "kind": "ranked", "seats": 1,
         "options": [{"option_id": "x", "name": "X", "party": None}]},
    ],
}


@pytest.mark.fast
def test_the_ballot_form_has_a_field_per_contest():
    form = vote.contest_fields(BALLOT["contests"])

    text = page_text(form)
    assert "<b>Ann</b> (Harbour)" not in text  # options are labels inside the controls
    assert "Choose one." in text and "Choose up to 2." in text
    assert "Rank the candidates in order of preference" in text and "Choice 1" in text
    assert "Your polling place" in page_text(vote.ballot_form(BALLOT))


@pytest.mark.fast
def test_only_the_contests_on_the_voters_ballot_are_shown_in_ballot_order():
    shown = vote.voters_contests(BALLOT, ["chair", "mayor", "not-in-this-election"])

    assert [c["contest_id"] for c in shown] == ["mayor", "chair"]
    assert "Council" not in page_text(vote.contest_fields(shown))


@pytest.mark.fast
def test_before_a_credential_is_typed_the_page_asks_for_it_instead_of_every_contest():
    for election_id, credential in (("e", None), ("e", ""), ("e", "0123abc"), (None, "0" * 32)):
        assert page_text(vote.show_contests(election_id, credential)) == \
            "Enter your credential to see your ballot."


@pytest.mark.fast
def test_the_ballot_body_is_what_the_casting_api_takes():
    body = vote.ballot_body(" ABCDEF0123456789ABCDEF0123456789 ", "north-1",
                            {"mayor": "ann", "council": ["a"], "parks": None}, "id-1")

    assert body == {"event_id": "id-1", "credential": "abcdef0123456789abcdef0123456789",
                    "region_id": "north-1",
                    "contests": [{"contest_id": "mayor", "selections": ["ann"]},
                                 {"contest_id": "council", "selections": ["a"]},
                                 {"contest_id": "parks", "selections": []}]}


@pytest.mark.fast
def test_a_ranking_is_read_in_rank_order_with_blank_ranks_left_out():
    ids = [{"type": "vote-rank", "contest": "chair", "rank": r} for r in (2, 0, 1, 3)]

    marks = vote.ranked_marks(["z", "x", None, "y"], ids)

    assert marks == {"chair": ["x", "z", "y"]}
    assert vote.ranked_marks([None], [ids[1]]) == {"chair": []}


@pytest.mark.fast
def test_answers_read_as_sentences():
    counted = verify.answer_text(200, {"status": "counted", "note": "Your ballot was counted.",
                                       "counted_at": "2026-11-03T08:01:00Z",
                                       "received_at": "2026-11-03T08:00:12Z",
                                       "election_id": "e"})
    assert "Counted at 2026-11-03T08:01:00Z (to the minute)" in page_text(counted)
    refused = vote.answer_text(409, {"title": "The election is closed", "errors": ["closed"]})
    assert "The election is closed" in page_text(refused)


@pytest.mark.fast
def test_the_quality_page_lists_runs_with_their_reports():
    table = quality.runs_table([
        {"validated_at": datetime(2026, 11, 3, 8, tzinfo=UTC), "election_id": "e",
         "suite_name": "tally.counts", "is_passed": False, "evaluated_expectations": 1,
         "failed_expectations": 1, "report_url": "validations/x.html"}])

    assert "tally.counts" in page_text(table) and "FAILED" in page_text(table)
    assert "No check has run yet." in page_text(quality.runs_table([]))


def test_vote_then_verify_through_the_casting_api(services_env, postgres_url, open_election):
    election, voters = open_election
    _voter, credential, region = voters[0]

    answer = vote.cast(1, election.election_id, credential, region,
                       ["dana-moss"], [{"type": "vote-contest", "contest": "mayor"}], [], [],
                       "0b6f7f55-4a07-4d1c-9d8e-0f4b0b6f7f55")

    text = page_text(answer)
    assert "Your ballot was received." in text
    receipt = answer.children[2].children
    assert len(receipt) == 64
    assert "waiting to be counted" in page_text(verify.check(1, receipt, receipt))
    assert "Not a receipt" in page_text(verify.check(1, "nope", "nope"))
    wrong = vote.cast(1, election.election_id, "0" * 32, region, [], [], [], [],
                      "not-a-uuid")
    assert "malformed" in page_text(wrong)
    runs = quality.refresh(None)
    assert "registrations" in page_text(runs) or "voters" in page_text(runs)


def test_a_ranking_marked_on_the_vote_page_is_cast_in_rank_order(
        services_env, postgres_url, new_election, tmp_path):
    import json

    from tallyflow import db
    from tests.conftest import open_for_voting

    election = new_election("ranked-mayor.json")
    voter, credential = open_for_voting(postgres_url, election.election_id, 50, 9,
                                        tmp_path)[0]
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select region_id from voters where voter_id = %s", (voter,))
        (region,) = cur.fetchone()
    ranks = [{"type": "vote-rank", "contest": "mayor", "rank": r} for r in range(5)]

    answer = vote.cast(1, election.election_id, credential, region, [], [],
                       ["eli-brandt", None, "dana-moss", None, None], ranks,
                       "6d0f8c1e-2b7a-4c55-9a3e-1f2e3d4c5b6a")

    assert "Your ballot was received." in page_text(answer)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select payload from submissions where event_id = %s",
                    ("6d0f8c1e-2b7a-4c55-9a3e-1f2e3d4c5b6a",))
        (payload,) = cur.fetchone()
    cast = json.loads(bytes(payload))["contests"]
    assert cast == [{"contest_id": "mayor", "selections": ["eli-brandt", "dana-moss"]}]


def test_a_voter_sees_only_the_contests_on_their_ballot(services_env, open_primary):
    election, voters = open_primary
    eid = election.election_id
    _voter, credential, _region, _party = next(
        v for v in voters if v[2].startswith("ward-1-") and v[3] == "civic")

    shown = page_text(vote.show_contests(eid, credential.upper() + " "))

    for title in ("Mayor", "Ward 1 Council Member", "Civic List primary",
                  "borrow 4 million"):
        assert title in shown
    assert "Ward 2" not in shown and "Green Future primary" not in shown
    unknown = page_text(vote.show_contests(eid, "0" * 32))
    assert "The credential is not on the roll" in unknown and "Mayor" not in unknown
