"""The tally's pure transforms, on literal rows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from pyspark.testing import assertDataFrameEqual

from jobs.tally_increments import increments
from jobs.tally_transforms import (
    PARSED_EVENT,
    attach_voters,
    classify,
    contest_marks,
    outcomes,
    parse_events,
    reference_frame,
)

CREDENTIAL = "0123456789abcdef0123456789abcdef"
EVENT = {
    "schema_version": 1, "event_id": "6f1c1f5e-8a39-4a57-9d53-2f1d1b0f4a11",
    "election_id": "e", "credential": CREDENTIAL, "region_id": "r1",
    "contests": [{"contest_id": "mayor", "selections": ["ann"]}],
    "cast_at": "2026-11-03T08:00:00Z", "channel": "online",
}
T = datetime(2026, 11, 3, 9, 0)
RAW_SCHEMA = ("topic string, partition int, offset long, broker_timestamp timestamp, "
              "key binary, value binary")


def _raw(spark, *values: bytes | None):
    return spark.createDataFrame(
        [("votes", 0, i, T, None, v) for i, v in enumerate(values)], RAW_SCHEMA
    )


def _event(**changes) -> bytes:
    return json.dumps({**EVENT, **changes}).encode()


def test_parse_events_names_why_an_event_is_malformed(spark):
    missing_region = {k: v for k, v in EVENT.items() if k != "region_id"}
    raw = _raw(
        spark,
        _event(),
        b"{not json",
        None,
        _event(schema_version=2),
        _event(credential="voter-42"),
        json.dumps(missing_region).encode(),
        _event(contests=[{"contest_id": "mayor", "selections": []},
                         {"contest_id": "mayor", "selections": ["ann"]}]),
        _event(channel="carrier pigeon"),
        _event(event_id="not-a-uuid"),
        _event(received_at="yesterday"),
        b'{"credential": "0123456789abcdef0123456789abcdef", "credential": "x"}',
        _event(extra="field"),
        _event(contests=[{"contest_id": "mayor", "selections": ["ann"] * 101}]),
        _event(cast_at="2026-11-03"),
    )

    parsed = parse_events(raw).orderBy("offset").select("malformed_because").collect()

    assert [r.malformed_because for r in parsed] == [
        None,
        "not a JSON object",
        "not a JSON object",
        "schema_version 2 is not supported",
        "credential is missing or not 32 hex characters",
        "region_id is missing",
        "a contest appears twice",
        "channel is missing or not online, in_person or mail",
        "event_id is missing or not a UUID",
        "received_at is not a time",
        "field 'credential' appears twice",
        "unknown field 'extra'",
        "a contest has more than 100 selections",
        "cast_at is not a time",
    ]


def test_parse_events_returns_the_declared_schema(spark):
    fields = parse_events(_raw(spark, _event())).schema.fields

    assert [(f.name, f.dataType) for f in fields] == [
        (f.name, f.dataType) for f in PARSED_EVENT.fields]


def test_an_event_is_judged_by_the_broker_time_not_the_time_it_claims(spark):
    raw = _raw(spark, _event(received_at="2026-11-03T07:30:00Z"), _event())

    judged = [r.judged_at for r in parse_events(raw).orderBy("offset").collect()]

    assert judged == [T, T]


def test_an_api_ballot_is_judged_by_when_the_casting_api_took_it_in(spark):
    taken_in = datetime(2026, 11, 3, 7, 30)
    event_id = EVENT["event_id"]
    raw = spark.createDataFrame(
        [("votes", 0, 0, T, None, _event(), event_id, taken_in),
         ("votes", 0, 1, T, None, _event(event_id=event_id.upper()), event_id, taken_in),
         # The lookup read another event id (a key given twice, say): not this event's time.
         ("votes", 0, 2, T, None, _event(), "00000000-0000-4000-8000-000000000000", taken_in),
         ("votes", 0, 3, T, None, _event(), None, None)],
        RAW_SCHEMA + ", looked_up_event_id string, submitted_at timestamp")

    judged = [r.judged_at for r in parse_events(raw).orderBy("offset").collect()]

    assert judged == [taken_in, taken_in, T, T]


EVENT_COLUMNS = ("topic string, partition int, offset long, broker_timestamp timestamp, "
                 "value binary, event_id string, election_id string, credential_sha256 string, "
                 "contests array<struct<contest_id:string,selections:array<string>>>, "
                 "judged_at timestamp, malformed_because string, channel string")
# Parsed events as ``outcomes`` takes them: with the receipt each carries.
OUTCOME_EVENT_COLUMNS = EVENT_COLUMNS.replace("credential_sha256 string, ",
                                              "credential_sha256 string, receipt string, ")
VOTERS = ("election_id string, credential_sha256 string, voter_id string, region_id string, "
          "age_band string, gender string, has_voted boolean, party_id string")


def test_classify_gives_each_event_its_reason(spark):
    mayor = [("mayor", ["ann"])]

    def event(offset, election, credential, contests, at=T, malformed=None):
        return ("votes", 0, offset, at, None, f"id{offset}", election, credential,
                contests, at, malformed, "online")

    events = spark.createDataFrame(
        [
            event(0, "e", "h1", mayor),                                  # counts
            event(1, "e", "h1", [("mayor", ["bob"])]),                   # second ballot
            event(2, "e", "h2", mayor),                                  # voted in a past batch
            event(3, "e", "nobody", mayor),                              # unknown credential
            event(4, "gone", "h3", mayor),                               # unknown election
            event(5, "e", "h3", mayor, at=datetime(2026, 11, 3, 6)),     # before opening
            event(6, "e", "h3", mayor, at=datetime(2026, 11, 3, 20)),    # after closing
            event(7, "e", "h3", [("sheriff", ["x"])]),                   # unknown contest
            event(8, "e", "h3", [("mayor", ["zed"])]),                   # unknown option
            event(9, "e", None, None, malformed="not a JSON object"),    # malformed
            event(10, "e", "h3", [("mayor", ["ann", "bob"])]),           # overvote: still counts
            event(11, "draft", "h4", mayor),                             # election not open
        ],
        EVENT_COLUMNS,
    )
    elections = reference_frame(
        spark,
        [("e", "open", datetime(2026, 11, 3, 7), datetime(2026, 11, 3, 19)),
         ("draft", "scheduled", datetime(2026, 11, 3, 7), datetime(2026, 11, 3, 19))],
        [("e", "mayor", "ann", 1), ("e", "mayor", "bob", 1), ("draft", "mayor", "ann", 1)])
    voters = spark.createDataFrame(
        [("e", "h1", "v1", "r1", "25-34", "female", False, None),
         ("e", "h2", "v2", "r1", "65+", "male", True, None),
         ("e", "h3", "v3", "r2", "18-24", "other", False, None),
         ("draft", "h4", "v4", "r1", "18-24", "male", False, None)], VOTERS)

    result = classify(attach_voters(events, voters), elections).select(
        "offset", "reason")

    assertDataFrameEqual(result, spark.createDataFrame(
        [(0, None), (1, "duplicate"), (2, "duplicate"), (3, "unknown_credential"),
         (4, "unknown_election"), (5, "not_open"), (6, "closed"), (7, "unknown_contest"),
         (8, "unknown_option"), (9, "malformed"), (10, None), (11, "not_open")],
        "offset long, reason string"))


def test_contest_marks_count_blanks_undervotes_and_overvotes(spark):
    accepted = spark.createDataFrame(
        [
            ("votes", 0, 0, "e", "r1", "25-34", "female", T,
             [("council", ["a", "b"]), ("mayor", ["a"])], None),
            ("votes", 0, 1, "e", "r1", "25-34", "female", T,
             [("council", ["a"]), ("mayor", ["a", "b"])], None),
            ("votes", 0, 2, "e", "r2", "25-34", "female", T, [("council", [])], None),
            ("votes", 0, 3, "e", "r2", "25-34", "female", T, [("council", ["a", "a"])], None),
        ],
        "topic string, partition int, offset long, election_id string, region_id string, "
        "age_band string, gender string, judged_at timestamp, "
        "contests array<struct<contest_id:string,selections:array<string>>>, party_id string",
    )
    elections = reference_frame(
        spark, [("e", "open", T, T)],
        [("e", "council", "a", 2), ("e", "council", "b", 2), ("e", "mayor", "a", 1),
         ("e", "mayor", "b", 1)])

    marks = contest_marks(accepted, elections).select("offset", "contest_id", "mark")

    assertDataFrameEqual(marks, spark.createDataFrame(
        [(0, "council", "counted"), (0, "mayor", "counted"),
         (1, "council", "undervote"), (1, "mayor", "overvote"),
         (2, "council", "blank"), (2, "mayor", "blank"),
         (3, "council", "overvote"), (3, "mayor", "blank")],
        "offset long, contest_id string, mark string"))


def test_a_closed_election_still_counts_ballots_received_before_its_close(spark):
    mayor = [("mayor", ["ann"])]
    before, after = datetime(2026, 11, 3, 18, 59), datetime(2026, 11, 3, 19, 0)

    def event(offset, election, credential, at):
        return ("votes", 0, offset, at, None, f"id{offset}", election, credential, mayor, at,
                None, "online")

    events = spark.createDataFrame(
        [event(0, "draining", "h1", before),   # received before the close: counts
         event(1, "draining", "h2", after),    # at the close: too late
         event(2, "certified", "h3", before)],  # nothing changes a certified count
        EVENT_COLUMNS,
    )
    elections = reference_frame(
        spark,
        [("draining", "closed", datetime(2026, 11, 3, 7), after),
         ("certified", "certified", datetime(2026, 11, 3, 7), after)],
        [("draining", "mayor", "ann", 1), ("certified", "mayor", "ann", 1)])
    voters = spark.createDataFrame(
        [("draining", "h1", "v1", "r1", "25-34", "female", False, None),
         ("draining", "h2", "v2", "r1", "25-34", "female", False, None),
         ("certified", "h3", "v3", "r1", "25-34", "female", False, None)], VOTERS)

    result = classify(attach_voters(events, voters), elections).select(
        "offset", "reason", "detail")

    assertDataFrameEqual(result, spark.createDataFrame(
        [(0, None, None),
         (1, "closed", "received 2026-11-03 19:00:00Z, closed 2026-11-03 19:00:00Z"),
         (2, "closed", "election is certified")],
        "offset long, reason string, detail string"))


def test_increments_sum_every_aggregate_from_the_outcomes(spark):
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    at_nine, a_minute_later = datetime(2026, 11, 3, 9, 0), datetime(2026, 11, 3, 9, 1, 30)

    def event(offset, election, credential, contests, at=a_minute_later, malformed=None):
        return ("votes", 0, offset, at, None, f"id{offset}", election, credential,
                f"receipt{offset}", contests, at, malformed, "online")

    events = spark.createDataFrame(
        [
            event(0, "e", "h1", [("mayor", ["ann"]), ("council", ["a", "b"])], at=at_nine),
            event(1, "e", "h2", [("mayor", ["ann", "bob"]), ("council", ["c"])]),
            event(2, "e", "h3", [("council", [])]),                   # mayor left off: blank
            event(3, "e", "h1", [("mayor", ["bob"])]),                 # duplicate
            event(4, "gone", "h3", [("mayor", ["ann"])]),              # unknown election
            event(5, None, None, None, malformed="not a JSON object"),  # no election at all
            event(6, "e", "h4", [("mayor", ["zed"])]),                 # unknown option
        ],
        OUTCOME_EVENT_COLUMNS,
    )
    elections = reference_frame(
        spark, [("e", "open", datetime(2026, 11, 3, 7), datetime(2026, 11, 3, 19))],
        [("e", "mayor", "ann", 1), ("e", "mayor", "bob", 1)]
        + [("e", "council", o, 2) for o in ("a", "b", "c")])
    voters = spark.createDataFrame(
        [("e", "h1", "v1", "r1", "25-34", "female", False, None),
         ("e", "h2", "v2", "r2", "65+", "male", False, None),
         ("e", "h3", "v3", "r2", "65+", "male", False, None),
         ("e", "h4", "v4", "r1", "25-34", "female", False, None)], VOTERS)

    added = increments(outcomes(classify(attach_voters(events, voters), elections),
                                elections).toArrow())

    assert {kind: sorted(rows) for kind, rows in added.items()} == {
        # ann once (h2's mayor is an overvote); c from h2's undervoted council
        "option": [("e", "council", "a", 1), ("e", "council", "b", 1),
                   ("e", "council", "c", 1), ("e", "mayor", "ann", 1)],
        "option_region": [("e", "council", "a", "r1", 1), ("e", "council", "b", "r1", 1),
                          ("e", "council", "c", "r2", 1), ("e", "mayor", "ann", "r1", 1)],
        "option_method": [("e", "council", "a", "r1", "online", 1),
                          ("e", "council", "b", "r1", "online", 1),
                          ("e", "council", "c", "r2", "online", 1),
                          ("e", "mayor", "ann", "r1", "online", 1)],
        "option_vote_method": [("e", "council", "a", "online", 1),
                               ("e", "council", "b", "online", 1),
                               ("e", "council", "c", "online", 1),
                               ("e", "mayor", "ann", "online", 1)],
        # (ballots, blank, undervote, overvote, off-ballot)
        "contest": [("e", "council", 3, 1, 1, 0, 0), ("e", "mayor", 3, 1, 0, 1, 0)],
        "contest_method": [("e", "council", "r1", "online", 1),
                           ("e", "council", "r2", "online", 2),
                           ("e", "mayor", "r1", "online", 1), ("e", "mayor", "r2", "online", 2)],
        "region_method": [("e", "r1", "online", 1), ("e", "r2", "online", 2)],
        "region": [("e", "r1", 1), ("e", "r2", 2)],
        "demographic": [("e", "25-34", "female", 1), ("e", "65+", "male", 2)],
        "minute": [("e", datetime(2026, 11, 3, 9, 0, tzinfo=UTC), 1),
                   ("e", datetime(2026, 11, 3, 9, 1, tzinfo=UTC), 2)],
        "rejected_total": [("", "malformed", 1), ("e", "duplicate", 1),
                           ("e", "unknown_option", 1), ("gone", "unknown_election", 1)],
    }


def test_a_ranked_contest_adds_each_distinct_ranking_per_region(spark):
    at = datetime(2026, 11, 3, 9, 0)

    def event(offset, credential, ranking):
        return ("votes", 0, offset, at, None, f"id{offset}", "e", credential,
                f"receipt{offset}", [("rcv", ranking)], at, None, "online")

    events = spark.createDataFrame(
        [event(0, "h1", ["b", "a"]), event(1, "h2", ["b", "a"]), event(2, "h3", ["a"]),
         event(3, "h4", [])],  # ranked no one: not a ranking
        OUTCOME_EVENT_COLUMNS,
    )
    elections = reference_frame(
        spark, [("e", "open", datetime(2026, 11, 3, 7), datetime(2026, 11, 3, 19))],
        [("e", "rcv", o, 3, "ranked") for o in ("a", "b", "c")])
    voters = spark.createDataFrame(
        [("e", f"h{i}", f"v{i}", "r1" if i < 3 else "r2", "25-34", "female", False, None)
         for i in range(1, 5)], VOTERS)

    added = increments(outcomes(classify(attach_voters(events, voters), elections),
                                elections).toArrow())

    assert sorted(added["ranking"]) == [("e", "rcv", "r1", '["b","a"]', 2),
                                        ("e", "rcv", "r2", '["a"]', 1)]
    assert sorted(added["ranking_contest"]) == [("e", "rcv", '["a"]', 1),
                                                ("e", "rcv", '["b","a"]', 2)]


def test_an_empty_batch_has_no_increments(spark):
    elections = reference_frame(spark, [("e", "open", T, T)], [("e", "mayor", "ann", 1)])
    events = spark.createDataFrame([], OUTCOME_EVENT_COLUMNS)
    voters = spark.createDataFrame([], VOTERS)

    per_event = outcomes(classify(attach_voters(events, voters), elections),
                         elections).toArrow()

    assert per_event.num_rows == 0
    assert increments(per_event) == {}


def test_a_contest_off_the_voters_ballot_is_marked_and_the_rest_of_the_ballot_counts(spark):
    at = datetime(2026, 11, 3, 9, 0)

    def event(offset, credential, contests, channel):
        return ("votes", 0, offset, at, None, f"id{offset}", "e", credential,
                f"receipt{offset}", contests, at, None, channel)

    events = spark.createDataFrame(
        [
            # A ward-1 Civic voter: mayor, their ward and their primary.
            event(0, "h1", [("mayor", ["ann"]), ("ward-1", ["x"]), ("civic", ["p"])], "mail"),
            # A ward-2 Green voter marks ward 1 and the Civic primary: only the mayor counts.
            event(1, "h2", [("mayor", ["bob"]), ("ward-1", ["x"]), ("civic", ["p"])],
                  "in_person"),
            # An unaffiliated ward-1 voter leaves their ward blank and marks nothing else.
            event(2, "h3", [("mayor", ["ann"])], "online"),
        ],
        OUTCOME_EVENT_COLUMNS,
    )
    elections = reference_frame(
        spark, [("e", "open", datetime(2026, 11, 3, 7), datetime(2026, 11, 3, 19))],
        [("e", "mayor", "ann", 1, "plurality", None, None),
         ("e", "mayor", "bob", 1, "plurality", None, None),
         ("e", "ward-1", "x", 1, "plurality", ["w1", "w1-a"], None),
         ("e", "civic", "p", 1, "plurality", None, "civic")])
    voters = spark.createDataFrame(
        [("e", "h1", "v1", "w1-a", "25-34", "female", False, "civic"),
         ("e", "h2", "v2", "w2-a", "65+", "male", False, "greens"),
         ("e", "h3", "v3", "w1-a", "65+", "male", False, None)], VOTERS)

    per_event = outcomes(classify(attach_voters(events, voters), elections), elections)
    marks = {(r.offset, m.contest_id): m.mark for r in per_event.collect() for m in r.marks}
    added = increments(per_event.toArrow())

    assert marks == {(0, "mayor"): "counted", (0, "ward-1"): "counted", (0, "civic"): "counted",
                     (1, "mayor"): "counted", (1, "ward-1"): "off_ballot",
                     (1, "civic"): "off_ballot",
                     (2, "mayor"): "counted", (2, "ward-1"): "blank"}
    # (ballots, blank, undervote, overvote, off-ballot): each contest's own electorate
    assert sorted(added["contest"]) == [("e", "civic", 1, 0, 0, 0, 1),
                                        ("e", "mayor", 3, 0, 0, 0, 0),
                                        ("e", "ward-1", 2, 1, 0, 0, 1)]
    assert sorted(added["option"]) == [("e", "civic", "p", 1), ("e", "mayor", "ann", 2),
                                       ("e", "mayor", "bob", 1), ("e", "ward-1", "x", 1)]
    assert sorted(added["option_method"]) == [
        ("e", "civic", "p", "w1-a", "mail", 1), ("e", "mayor", "ann", "w1-a", "mail", 1),
        ("e", "mayor", "ann", "w1-a", "online", 1),
        ("e", "mayor", "bob", "w2-a", "in_person", 1), ("e", "ward-1", "x", "w1-a", "mail", 1)]
    assert sorted(added["region_method"]) == [("e", "w1-a", "mail", 1),
                                              ("e", "w1-a", "online", 1),
                                              ("e", "w2-a", "in_person", 1)]
    assert all(r["reason"] is None for r in per_event.toArrow().to_pylist())
