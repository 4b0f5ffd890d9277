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

LAYOUT = [("mayor", 1, False), ("council", 2, False)]


def test_result_cells_count_votes_marks_and_blanks(spark):
    ballots = spark.createDataFrame(
        [
            ("r1", '[{"contest_id":"mayor","selections":["ann"]},'
                   '{"contest_id":"council","selections":["a","b"]}]'),
            ("r1", '[{"contest_id":"mayor","selections":["ann","bob"]},'  # overvote
                   '{"contest_id":"council","selections":["a"]}]'),      # undervote
            ("r2", '[{"contest_id":"council","selections":["b","b"]}]'),  # repeat: overvote
            ("r2", "[]"),                                                # blank ballot
        ],
        "region_id string, selections string",
    )

    cells = result_cells(ballots, spark.createDataFrame(LAYOUT, CONTEST_LAYOUT))

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
    ballots = spark.createDataFrame(
        [
            ("r1", '[{"contest_id":"rcv","selections":["b","a","c"]}]'),
            ("r1", '[{"contest_id":"rcv","selections":["b","a","c"]}]'),
            ("r1", '[{"contest_id":"rcv","selections":["a"]}]'),   # a partial ranking
            ("r2", '[{"contest_id":"rcv","selections":["b","a","c"]}]'),
            ("r2", '[{"contest_id":"rcv","selections":[]}]'),      # ranked no one
        ],
        "region_id string, selections string",
    )

    cells = result_cells(ballots, spark.createDataFrame([("rcv", 3, True)], CONTEST_LAYOUT))

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


def test_ballots_by_region(spark):
    ballots = spark.createDataFrame([("r1", "[]"), ("r1", "[]"), ("r2", "[]")],
                                    "region_id string, selections string")

    assertDataFrameEqual(ballots_by_region(ballots), spark.createDataFrame(
        [("ballots", "r1", 2), ("ballots", "r2", 1)], "metric string, item string, value long"))
