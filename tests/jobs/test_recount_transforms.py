"""The recount's transforms on literal ledger rows."""

from __future__ import annotations

from datetime import date

from pyspark.testing import assertDataFrameEqual

from jobs.recount_election import (
    CONTEST_LAYOUT,
    ballots_by_region,
    result_cells,
    turnout_cells,
)

LAYOUT = [("mayor", 1, False, None, None), ("council", 2, False, None, None)]
BALLOTS = "region_id string, party_id string, vote_method string, selections string"


def _ballots(spark, rows):
    """Ledger rows from (region, selections[, party, vote method]): no party, in person."""
    return spark.createDataFrame(
        [(r[0], *(r[2:] or ("", "in_person")), r[1]) for r in rows], BALLOTS)


def test_result_cells_count_votes_marks_and_blanks(spark):
    ballots = _ballots(spark, [
        ("r1", '[{"contest_id":"mayor","selections":["ann"]},'
               '{"contest_id":"council","selections":["a","b"]}]'),
        ("r1", '[{"contest_id":"mayor","selections":["ann","bob"]},'  # overvote
               '{"contest_id":"council","selections":["a"]}]'),      # undervote
        ("r2", '[{"contest_id":"council","selections":["b","b"]}]'),  # repeat: overvote
        ("r2", "[]"),                                                # blank ballot
    ])

    cells = result_cells(ballots, spark.createDataFrame(LAYOUT, CONTEST_LAYOUT)).where(
        "metric not in ('option_method', 'option_vote_method', 'contest_method', "
        "'contest_off_ballot')")

    assertDataFrameEqual(cells, spark.createDataFrame(
        [
            ("option", "mayor/ann", 1), ("option", "council/a", 2), ("option", "council/b", 1),
            ("option_region", "mayor/ann/r1", 1), ("option_region", "council/a/r1", 2),
            ("option_region", "council/b/r1", 1),
            ("contest_ballots", "mayor", 4), ("contest_blank", "mayor", 2),
            ("contest_undervote", "mayor", 0), ("contest_overvote", "mayor", 1),
            ("contest_ballots", "council", 4), ("contest_blank", "council", 1),
            ("contest_undervote", "council", 1), ("contest_overvote", "council", 1),
        ],
        "metric string, item string, value long",
    ))


def test_a_ranked_contest_also_counts_each_distinct_ranking_per_region(spark):
    ballots = _ballots(spark, [
        ("r1", '[{"contest_id":"rcv","selections":["b","a","c"]}]'),
        ("r1", '[{"contest_id":"rcv","selections":["b","a","c"]}]'),
        ("r1", '[{"contest_id":"rcv","selections":["a"]}]'),   # a partial ranking
        ("r2", '[{"contest_id":"rcv","selections":["b","a","c"]}]'),
        ("r2", '[{"contest_id":"rcv","selections":[]}]'),      # ranked no one
    ])

    cells = result_cells(ballots, spark.createDataFrame([("rcv", 3, True, None, None)],
                                                        CONTEST_LAYOUT))

    rankings = cells.where("metric = 'ranking'")
    assertDataFrameEqual(rankings, spark.createDataFrame(
        [("ranking", 'rcv/r1/["b","a","c"]', 2), ("ranking", 'rcv/r1/["a"]', 1),
         ("ranking", 'rcv/r2/["b","a","c"]', 1)],
        "metric string, item string, value long",
    ))


def test_turnout_cells_by_region_age_band_gender_and_minute(spark):
    micros = 1_793_000_000_000_000  # 2026-10-26T07:33:20Z
    checkins = spark.createDataFrame(
        [
            ("r1", micros, date(2000, 11, 3), "female"),   # 26 on the day
            ("r1", micros + 30_000_000, date(2001, 11, 4), "female"),  # 25 tomorrow: still 24
            ("r2", micros + 60_000_000, date(1950, 1, 1), "male"),
        ],
        "region_id string, checked_in_micros long, birth_date date, gender string",
    )

    cells = turnout_cells(checkins, date(2026, 11, 3))

    assertDataFrameEqual(cells, spark.createDataFrame(
        [
            ("turnout", "r1", 2), ("turnout", "r2", 1),
            ("demographic", "25-34/female", 1), ("demographic", "18-24/female", 1),
            ("demographic", "65+/male", 1),
            ("minute", "2026-10-26T07:33:00Z", 2), ("minute", "2026-10-26T07:34:00Z", 1),
        ],
        "metric string, item string, value long",
    ))


def test_ballots_by_region_and_by_vote_method(spark):
    ballots = _ballots(spark, [("r1", "[]", "", "mail"), ("r1", "[]"), ("r2", "[]")])

    assertDataFrameEqual(ballots_by_region(ballots), spark.createDataFrame(
        [("ballots", "r1", 2), ("ballots", "r2", 1), ("turnout_method", "r1/mail", 1),
         ("turnout_method", "r1/in_person", 1), ("turnout_method", "r2/in_person", 1)],
        "metric string, item string, value long"))


def test_a_contest_counts_its_own_electorate_and_an_off_ballot_mark_counts_for_no_one(spark):
    layout = spark.createDataFrame(
        [("mayor", 1, False, None, None),
         ("ward-1", 1, False, ["w1", "w1-a", "w1-b"], None),
         ("civic-primary", 1, False, None, "civic")], CONTEST_LAYOUT)
    ballots = _ballots(spark, [
        ("w1-a", '[{"contest_id":"mayor","selections":["ann"]},'
                 '{"contest_id":"ward-1","selections":["x"]},'
                 '{"contest_id":"civic-primary","selections":["p"]}]', "civic", "mail"),
        ("w1-b", '[{"contest_id":"ward-1","selections":[]}]', "", "online"),
        # Another ward's voter marks ward 1 and a primary not theirs: only the mayor counts.
        ("w2-a", '[{"contest_id":"mayor","selections":["bob"]},'
                 '{"contest_id":"ward-1","selections":["x"]},'
                 '{"contest_id":"civic-primary","selections":["p"]}]', "greens", "mail"),
    ])

    cells = {(r.metric, r.item): r.value for r in result_cells(ballots, layout).collect()}

    assert {k: v for k, v in cells.items() if k[0].startswith("contest_")
            and k[0] != "contest_method"} == {
        ("contest_ballots", "mayor"): 3, ("contest_blank", "mayor"): 1,
        ("contest_undervote", "mayor"): 0, ("contest_overvote", "mayor"): 0,
        ("contest_off_ballot", "mayor"): 0,
        ("contest_ballots", "ward-1"): 2, ("contest_blank", "ward-1"): 1,
        ("contest_undervote", "ward-1"): 0, ("contest_overvote", "ward-1"): 0,
        ("contest_off_ballot", "ward-1"): 1,
        ("contest_ballots", "civic-primary"): 1, ("contest_blank", "civic-primary"): 0,
        ("contest_undervote", "civic-primary"): 0, ("contest_overvote", "civic-primary"): 0,
        ("contest_off_ballot", "civic-primary"): 1,
    }
    assert {k: v for k, v in cells.items() if k[0] == "option"} == {
        ("option", "mayor/ann"): 1, ("option", "mayor/bob"): 1, ("option", "ward-1/x"): 1,
        ("option", "civic-primary/p"): 1}
    assert {k: v for k, v in cells.items() if k[0] == "option_method"} == {
        ("option_method", "mayor/ann/w1-a/mail"): 1, ("option_method", "mayor/bob/w2-a/mail"): 1,
        ("option_method", "ward-1/x/w1-a/mail"): 1,
        ("option_method", "civic-primary/p/w1-a/mail"): 1}
    assert {k: v for k, v in cells.items() if k[0] == "contest_method"} == {
        ("contest_method", "mayor/w1-a/mail"): 1, ("contest_method", "mayor/w1-b/online"): 1,
        ("contest_method", "mayor/w2-a/mail"): 1, ("contest_method", "ward-1/w1-a/mail"): 1,
        ("contest_method", "ward-1/w1-b/online"): 1,
        ("contest_method", "civic-primary/w1-a/mail"): 1}
