"""The recount: an election's results again, from the ballots and check-ins ledgers alone.

extract:   each Spark task copies its slice of the ledgers out of Postgres (``mapInArrow``),
           so a million ballots never pass through the driver
transform: pure DataFrame -> DataFrame functions giving every result cell
           (metric, item, value), in the same terms as the live aggregates
load:      replace the election's ``recount_cells`` and record the recount

It never reads the live aggregates: certification compares the two cell by cell. The
counting rules are written again here rather than imported from the tally, so the recount
is a second, independent reading of the rules in ``docs/events.md``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BooleanType,
    DateType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
)

BALLOT_LEDGER = StructType([
    StructField("region_id", StringType()),
    StructField("party_id", StringType()),  # "" for none
    StructField("vote_method", StringType()),
    StructField("selections", StringType()),
])
CHECKIN_LEDGER = StructType([
    StructField("region_id", StringType()),
    StructField("checked_in_micros", LongType()),
    StructField("birth_date", DateType()),
    StructField("gender", StringType()),
])
CAST_CONTESTS = ArrayType(StructType([
    StructField("contest_id", StringType()),
    StructField("selections", ArrayType(StringType())),
]))
CONTEST_LAYOUT = StructType([
    StructField("contest_id", StringType()),
    StructField("max_selections", IntegerType()),
    StructField("ranked", BooleanType()),
    StructField("regions", ArrayType(StringType())),  # its district's; null: everywhere
    StructField("party", StringType()),  # its primary's; null: every voter's
])
CELLS = "metric string, item string, value long"


# -- extract ------------------------------------------------------------------------------


def read_ledger(spark: SparkSession, url: str, query_name: str, params: dict,
                schema: StructType, slices: int = 4) -> DataFrame:
    """The rows of a ledger query, read by ``slices`` Spark tasks, each with its own COPY.

    The query takes ``%(slice)s`` and ``%(slices)s`` and returns its share of the rows as
    CSV in ``schema``'s column order.
    """
    import pyarrow as pa

    names = [f.name for f in schema.fields]
    arrow_types = {
        "string": pa.string(), "bigint": pa.int64(), "date": pa.date32(), "int": pa.int32(),
    }
    column_types = {f.name: arrow_types[f.dataType.simpleString()] for f in schema.fields}

    def copy_slices(batches):
        import io

        import pyarrow.csv as pa_csv

        from tallyflow import db

        for batch in batches:
            for slice_id in batch.column("id").to_pylist():
                buffer = io.BytesIO()
                with db.connection(url) as conn, conn.cursor() as cur:
                    statement = cur.mogrify(db.query(query_name),
                                            {**params, "slice": slice_id, "slices": slices})
                    cur.copy_expert(statement.decode(), buffer)
                if not buffer.tell():
                    continue
                buffer.seek(0)
                table = pa_csv.read_csv(
                    buffer,
                    read_options=pa_csv.ReadOptions(column_names=names,
                                                    block_size=16 << 20),
                    convert_options=pa_csv.ConvertOptions(column_types=column_types,
                                                          strings_can_be_null=False),
                )
                yield from table.to_batches(max_chunksize=65_536)

    return spark.range(slices, numPartitions=slices).mapInArrow(copy_slices, schema)


# -- transform ----------------------------------------------------------------------------


def on_ballot(region: F.Column, party: F.Column) -> F.Column:
    """Whether a layout row's contest is on the ballot of a voter of ``region`` and
    ``party`` ("" for none): the district (``regions``) holds the region and the primary
    (``party``) is the voter's party; no district or no primary is every voter's."""
    return ((F.col("regions").isNull() | F.array_contains("regions", region))
            & (F.col("party").isNull() | (F.col("party") == party)))


def ballot_marks(ballots: DataFrame, layout: DataFrame) -> DataFrame:
    """One row per ballot × contest it lists: region, vote method, contest, selections and
    ``mark``.

    ``ballots``: region_id, party_id, vote_method and selections (the stored JSON);
    ``layout``: ``CONTEST_LAYOUT``. ``mark`` is ``off_ballot`` (selections in a contest not
    on this ballot's style), ``counted`` (as many selections as allowed), ``undervote``
    (fewer), ``overvote`` (more, or an option twice) or ``blank`` (none); a contest not on
    the ballot and left blank has no row.
    """
    cast = ballots.select("region_id", "party_id", "vote_method", F.explode(
        F.from_json("selections", CAST_CONTESTS)).alias("c"))
    chosen = cast.select("region_id", "party_id", "vote_method", "c.contest_id",
                         F.coalesce("c.selections", F.array()).alias("selections"))
    n = F.size("selections")
    style = on_ballot(F.col("region_id"), F.col("party_id"))
    return chosen.join(F.broadcast(layout), "contest_id").withColumn(
        "mark",
        F.when(~style & (n > 0), "off_ballot")
        .when(~style, None)
        .when(n == 0, "blank")
        .when((n > F.col("max_selections"))
              | (F.size(F.array_distinct("selections")) < n), "overvote")
        .when(n < F.col("max_selections"), "undervote")
        .otherwise("counted"),
    ).where(F.col("mark").isNotNull())


def contest_electorates(ballots: DataFrame, layout: DataFrame) -> DataFrame:
    """One row per contest, precinct and vote method: the ballots whose style carries the
    contest (``ballots``), whatever they marked."""
    styles = ballots.groupBy("region_id", "party_id", "vote_method").count()
    return (styles.crossJoin(F.broadcast(layout))
            .where(on_ballot(F.col("region_id"), F.col("party_id")))
            .groupBy("contest_id", "region_id", "vote_method")
            .agg(F.sum("count").alias("ballots")))


def _contest_counts(marks: DataFrame, electorates: DataFrame,
                    layout: DataFrame) -> DataFrame:
    """Per contest: its ballots (its electorate's), blanks among them, under- and
    overvotes, and off-ballot marks."""
    marked = marks.groupBy("contest_id").agg(
        F.count_if(~F.col("mark").isin("blank", "off_ballot")).alias("marked"),
        F.count_if(F.col("mark") == "undervote").alias("undervote"),
        F.count_if(F.col("mark") == "overvote").alias("overvote"),
        F.count_if(F.col("mark") == "off_ballot").alias("off_ballot"),
    )
    return layout.join(
        electorates.groupBy("contest_id").agg(F.sum("ballots").alias("ballots")),
        "contest_id", "left").join(marked, "contest_id", "left").select(
        "contest_id",
        F.coalesce("ballots", F.lit(0)).alias("ballots"),
        (F.coalesce("ballots", F.lit(0)) - F.coalesce("marked", F.lit(0))).alias("blank"),
        F.coalesce("undervote", F.lit(0)).alias("undervote"),
        F.coalesce("overvote", F.lit(0)).alias("overvote"),
        F.coalesce("off_ballot", F.lit(0)).alias("off_ballot"),
    )


def result_cells(ballots: DataFrame, layout: DataFrame) -> DataFrame:
    """One row per result cell from the ballots: option, option_region, option_method,
    option_vote_method, contest_* counts, contest_method and, for a ranked contest, the
    ballots of each distinct ranking per precinct.

    A contest's ballots are those whose style carries it (``contest_electorates``); one of
    them that leaves it out is blank. An overvoted or off-ballot contest gives no option a
    vote.
    """
    marks = ballot_marks(ballots, layout)
    votes = marks.where(F.col("mark").isin("counted", "undervote")).select(
        "contest_id", "region_id", "vote_method", F.explode("selections").alias("option_id"))
    option_method = votes.groupBy("contest_id", "option_id", "region_id",
                                  "vote_method").count()
    option_region = option_method.groupBy("contest_id", "option_id", "region_id").agg(
        F.sum("count").alias("count"))
    by_option = option_region.groupBy("contest_id", "option_id").agg(
        F.sum("count").alias("count"))
    electorates = contest_electorates(ballots, layout)
    per_contest = _contest_counts(marks, electorates, layout)
    rankings = marks.where(
        F.col("ranked") & ~F.col("mark").isin("blank", "off_ballot")).groupBy(
        "contest_id", "region_id", F.to_json("selections").alias("ranking")).count()
    by_vote_method = option_method.groupBy("contest_id", "option_id", "vote_method").agg(
        F.sum("count").alias("count"))
    return (
        _cells("option", by_option, "contest_id", "option_id")
        .unionByName(_cells("option_region", option_region, "contest_id", "option_id",
                            "region_id"))
        .unionByName(_cells("option_method", option_method, "contest_id", "option_id",
                            "region_id", "vote_method"))
        .unionByName(_cells("option_vote_method", by_vote_method, "contest_id", "option_id",
                            "vote_method"))
        .unionByName(_cells("contest_method", electorates.withColumnRenamed(
            "ballots", "count"), "contest_id", "region_id", "vote_method"))
        .unionByName(_cells("ranking", rankings, "contest_id", "region_id", "ranking"))
        .unionByName(per_contest.select(
            F.lit("contest").alias("metric"), F.col("contest_id").alias("item"),
            F.explode(F.create_map(
                F.lit("ballots"), "ballots", F.lit("blank"), "blank",
                F.lit("undervote"), "undervote", F.lit("overvote"), "overvote",
                F.lit("off_ballot"), "off_ballot",
            )).alias("what", "value"))
            .select(F.concat_ws("_", "metric", "what").alias("metric"), "item",
                    F.col("value").cast("long").alias("value")))
    )


def _cells(metric: str, counts: DataFrame, *keys: str) -> DataFrame:
    """``counts`` (``keys`` and a ``count``) as cells: ``metric``, the keys joined by "/"
    as the item, and the count as the value."""
    return counts.select(F.lit(metric).alias("metric"),
                         F.concat_ws("/", *keys).alias("item"),
                         F.col("count").cast("long").alias("value"))


def age_band(birth_date: F.Column, on: date) -> F.Column:
    """The age band of someone born on ``birth_date``, in full years on ``on``."""
    years = F.lit(on.year) - F.year(birth_date) - F.when(
        (F.month(birth_date) > on.month)
        | ((F.month(birth_date) == on.month) & (F.dayofmonth(birth_date) > on.day)), 1
    ).otherwise(0)
    return (F.when(years < 25, "18-24").when(years < 35, "25-34").when(years < 45, "35-44")
            .when(years < 55, "45-54").when(years < 65, "55-64").otherwise("65+"))


def turnout_cells(checkins: DataFrame, opens_on: date) -> DataFrame:
    """One row per turnout cell from the check-ins: region, demographic and minute."""
    minute = F.date_format(F.date_trunc("minute", F.timestamp_micros("checked_in_micros")),
                           "yyyy-MM-dd'T'HH:mm:ss'Z'")
    facts = checkins.select(F.explode(F.array(
        F.struct(F.lit("turnout").alias("metric"), F.col("region_id").alias("item")),
        F.struct(F.lit("demographic").alias("metric"),
                 F.concat_ws("/", age_band(F.col("birth_date"), opens_on),
                             "gender").alias("item")),
        F.struct(F.lit("minute").alias("metric"), minute.alias("item")),
    )).alias("f")).select("f.*")
    return facts.groupBy("metric", "item").agg(F.count(F.lit(1)).alias("value"))


def ballots_by_region(ballots: DataFrame) -> DataFrame:
    """One row per region: the stored ballots there (metric ``ballots``), and per region
    and vote method (``turnout_method``)."""
    by_method = ballots.groupBy("region_id", "vote_method").count()
    return by_method.groupBy(F.col("region_id").alias("item")).agg(
        F.sum("count").cast("long").alias("value")).select(
        F.lit("ballots").alias("metric"), "*").unionByName(by_method.select(
            F.lit("turnout_method").alias("metric"),
            F.concat_ws("/", "region_id", "vote_method").alias("item"),
            F.col("count").alias("value")))


# -- the recount --------------------------------------------------------------------------


@dataclass
class Recount:
    election_id: str
    ballots: int
    checkins: int
    cells: int
    seconds: float


def recount(spark: SparkSession, url: str, election_id: str, *, slices: int = 4) -> Recount:
    """Recount ``election_id`` from its ledgers and store the cells in ``recount_cells``."""
    import io

    import pyarrow as pa
    import pyarrow.csv as pa_csv

    from tallyflow import db
    from tallyflow.elections.layout import ballot_layouts

    started = time.perf_counter()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    with db.connection(url) as conn, conn.cursor() as cur:
        layout_rows = [(contest.contest_id, contest.max_selections, contest.kind == "ranked",
                        None if contest.regions is None else sorted(contest.regions),
                        contest.party)
                       for contest in ballot_layouts(cur, [election_id]).get(election_id, [])]
        cur.execute(db.query("election_opening_day"), {"election_id": election_id})
        (opens_on,) = cur.fetchone()
    layout = spark.createDataFrame(layout_rows, CONTEST_LAYOUT)
    params = {"election_id": election_id}
    ballots = read_ledger(spark, url, "recount_ballots", params, BALLOT_LEDGER, slices).cache()
    checkins = read_ledger(spark, url, "recount_checkins", params, CHECKIN_LEDGER, slices)
    cells = (result_cells(ballots, layout)
             .unionByName(turnout_cells(checkins, opens_on))
             .unionByName(ballots_by_region(ballots))).toArrow()
    ballots.unpersist()
    totals = {row["item"]: row["value"] for row in
              cells.filter(pa.compute.equal(cells.column("metric"), "turnout")).to_pylist()}
    by_region = {row["item"]: row["value"] for row in
                 cells.filter(pa.compute.equal(cells.column("metric"), "ballots")).to_pylist()}
    buffer = io.BytesIO()
    stored = cells.append_column("election_id", pa.array([election_id] * len(cells)))
    pa_csv.write_csv(stored.select(["election_id", "metric", "item", "value"]), buffer,
                     pa_csv.WriteOptions(include_header=False))
    buffer.seek(0)
    result = Recount(election_id, sum(by_region.values()), sum(totals.values()), len(cells),
                     round(time.perf_counter() - started, 3))
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("delete_recount_cells"), {"election_id": election_id})
        cur.copy_expert(db.query("copy_recount_cells"), buffer)
        cur.execute(db.query("record_recount"), {
            "election_id": election_id, "ballots": result.ballots,
            "checkins": result.checkins, "seconds": result.seconds,
        })
    return result
