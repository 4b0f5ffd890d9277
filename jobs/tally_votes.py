"""The tally micro-batch: Kafka vote events -> checked ballots and aggregates in Postgres.

extract:   read each partition from its committed offset to its end (``jobs.kafka_source``)
transform: parse, check and classify every event; keep each voter's first valid ballot;
           compute the batch's aggregate increments (pure DataFrame -> DataFrame functions)
load:      write ballots, check-ins, rejected events, aggregate increments and the new
           offsets in one Postgres transaction (``tallyflow.votes.ledger``)

A batch that fails anywhere commits nothing, and the next one starts from the same offsets.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime

from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    IntegerType,
    StringType,
    StructField,
    StructType,
)

from jobs.kafka_source import KafkaRangeSource

# The vote event as Spark parses it (schemas/vote_event.schema.json is the contract).
VOTE_EVENT = StructType(
    [
        StructField("schema_version", IntegerType()),
        StructField("event_id", StringType()),
        StructField("election_id", StringType()),
        StructField("credential", StringType()),
        StructField("region_id", StringType()),
        StructField(
            "contests",
            ArrayType(
                StructType(
                    [
                        StructField("contest_id", StringType()),
                        StructField("selections", ArrayType(StringType())),
                    ]
                )
            ),
        ),
        StructField("cast_at", StringType()),
        StructField("channel", StringType()),
        StructField("received_at", StringType()),
    ]
)

UUID_PATTERN = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
CAST_WINDOW = "15 minutes"


# -- extract ------------------------------------------------------------------------------


def extract(spark: SparkSession, bootstrap: str, topic: str, start_offsets: dict[int, int],
            max_per_partition: int) -> DataFrame:
    """One row per Kafka message: topic, partition, offset, broker_timestamp, key, value."""
    spark.dataSource.register(KafkaRangeSource)
    return (
        spark.read.format("tallyflow_kafka")
        .option("bootstrap", bootstrap)
        .option("topic", topic)
        .option("start_offsets", json.dumps({str(p): o for p, o in start_offsets.items()}))
        .option("max_per_partition", str(max_per_partition))
        .load()
    )


# -- transform ----------------------------------------------------------------------------


def parse_events(raw: DataFrame) -> DataFrame:
    """One row per Kafka message, with the event's fields and why it is malformed (or null)."""
    text = F.col("value").cast("string")
    event = F.from_json(text, VOTE_EVENT, {"mode": "PERMISSIVE"})
    parsed = raw.withColumn("event", event).withColumn("is_json", F.expr(
        "value is not null and try_parse_json(cast(value as string)) is not null"
    ))
    e = F.col("event")
    contest_ids = F.transform(e.contests, lambda c: c.contest_id)
    received_at = F.try_to_timestamp(e.received_at)
    problem = (
        F.when(~F.col("is_json") | e.isNull(), F.lit("not a JSON object"))
        .when(e.schema_version.isNull(), F.lit("schema_version is missing or not a number"))
        .when(e.schema_version != 1,
              F.format_string("schema_version %d is not supported", e.schema_version))
        .when(~F.coalesce(e.event_id.rlike(UUID_PATTERN), F.lit(False)),
              F.lit("event_id is missing or not a UUID"))
        .when(e.election_id.isNull(), F.lit("election_id is missing"))
        .when(~F.coalesce(e.credential.rlike("^[0-9a-f]{32}$"), F.lit(False)),
              F.lit("credential is missing or not 32 hex characters"))
        .when(e.region_id.isNull(), F.lit("region_id is missing"))
        .when(e.contests.isNull(), F.lit("contests is missing or not a list"))
        .when(F.exists(e.contests, lambda c: c.contest_id.isNull() | c.selections.isNull()),
              F.lit("a contest lacks contest_id or selections"))
        .when(F.size(F.array_distinct(contest_ids)) != F.size(contest_ids),
              F.lit("a contest appears twice"))
        .when(~F.coalesce(e.channel.isin("online", "in_person", "mail"), F.lit(False)),
              F.lit("channel is missing or not online, in_person or mail"))
        .when(e.cast_at.isNull(), F.lit("cast_at is missing"))
        .when(e.received_at.isNotNull() & received_at.isNull(),
              F.lit("received_at is not a time"))
    )
    return parsed.select(
        "topic", "partition", "offset", "broker_timestamp", "value",
        e.event_id.alias("event_id"),
        e.election_id.alias("election_id"),
        F.sha2(e.credential, 256).alias("credential_sha256"),
        e.contests.alias("contests"),
        F.coalesce(received_at, F.col("broker_timestamp")).alias("judged_at"),
        problem.alias("malformed_because"),
    )


def classify(events: DataFrame, elections: DataFrame, options: DataFrame,
             voters: DataFrame) -> DataFrame:
    """One row per event with ``reason`` (null when it counts) and ``detail``.

    Checks run in order: malformed, unknown_election, not_open / closed, unknown_credential,
    unknown_contest, unknown_option, duplicate. The first valid ballot of a voter counts,
    judged by receipt time then partition and offset; one already counted in an earlier
    batch (``voters.has_voted``) makes every new one a duplicate.
    """
    contest_ids = options.select("election_id", "contest_id").distinct()
    selections = (
        events.where(F.col("malformed_because").isNull())
        .select("topic", "partition", "offset", "election_id",
                F.explode("contests").alias("contest"))
        .select("topic", "partition", "offset", "election_id",
                F.col("contest.contest_id").alias("contest_id"),
                F.explode_outer("contest.selections").alias("option_id"))
    )
    unknown_contest = (
        selections.join(contest_ids, ["election_id", "contest_id"], "left_anti")
        .groupBy("topic", "partition", "offset")
        .agg(F.min("contest_id").alias("unknown_contest"))
    )
    unknown_option = (
        selections.where(F.col("option_id").isNotNull())
        .join(contest_ids, ["election_id", "contest_id"], "left_semi")
        .join(options, ["election_id", "contest_id", "option_id"], "left_anti")
        .groupBy("topic", "partition", "offset")
        .agg(F.min(F.concat_ws("/", "contest_id", "option_id")).alias("unknown_option"))
    )
    key = ["topic", "partition", "offset"]
    checked = (
        events.join(elections, "election_id", "left")
        .join(voters, ["election_id", "credential_sha256"], "left")
        .join(unknown_contest, key, "left")
        .join(unknown_option, key, "left")
    )
    reason = (
        F.when(F.col("malformed_because").isNotNull(), F.lit("malformed"))
        .when(F.col("status").isNull(), F.lit("unknown_election"))
        .when(F.col("status").isin("draft", "scheduled")
              | (F.col("judged_at") < F.col("opens_at")), F.lit("not_open"))
        .when(F.col("status").isin("closed", "certified")
              | (F.col("judged_at") >= F.col("closes_at")), F.lit("closed"))
        .when(F.col("voter_id").isNull(), F.lit("unknown_credential"))
        .when(F.col("unknown_contest").isNotNull(), F.lit("unknown_contest"))
        .when(F.col("unknown_option").isNotNull(), F.lit("unknown_option"))
    )
    detail = (
        F.when(F.col("malformed_because").isNotNull(), F.col("malformed_because"))
        .when(F.col("status").isNull(), F.format_string("no election %s", "election_id"))
        .when(F.col("status").isin("draft", "scheduled"),
              F.format_string("election is %s", "status"))
        .when(F.col("judged_at") < F.col("opens_at"),
              F.format_string("received %s, opens %s", "judged_at", "opens_at"))
        .when(F.col("status").isin("closed", "certified"),
              F.format_string("election is %s", "status"))
        .when(F.col("judged_at") >= F.col("closes_at"),
              F.format_string("received %s, closed %s", "judged_at", "closes_at"))
        .when(F.col("voter_id").isNull(), F.lit("no voter of this election has this credential"))
        .when(F.col("unknown_contest").isNotNull(),
              F.format_string("no contest %s", "unknown_contest"))
        .when(F.col("unknown_option").isNotNull(),
              F.format_string("no option %s", "unknown_option"))
    )
    classified = checked.withColumn("reason", reason).withColumn("detail", detail)
    # Ranked among the voter's otherwise valid events only: a rejected one never counts first.
    first = Window.partitionBy("election_id", "voter_id", F.col("reason").isNull()).orderBy(
        "judged_at", "partition", "offset"
    )
    valid_rank = F.when(F.col("reason").isNull(), F.row_number().over(first))
    return (
        classified.withColumn("rank", valid_rank)
        .withColumn(
            "detail",
            F.when(F.col("reason").isNull() & F.col("has_voted"),
                   F.lit("this voter's ballot was already counted"))
            .when(F.col("reason").isNull() & (F.col("rank") > 1),
                  F.lit("this voter's earlier ballot in the same batch counts"))
            .otherwise(F.col("detail")),
        )
        .withColumn(
            "reason",
            F.when(F.col("reason").isNull() & (F.col("has_voted") | (F.col("rank") > 1)),
                   F.lit("duplicate"))
            .otherwise(F.col("reason")),
        )
        .drop("rank")
    )


def contest_marks(accepted: DataFrame, contests: DataFrame) -> DataFrame:
    """One row per counted ballot × contest of its election: the selections and how they count.

    ``mark`` is ``counted``, ``undervote`` (fewer selections than allowed), ``blank`` (none,
    or the contest left off the ballot) or ``overvote`` (more than allowed, or a repeat);
    an overvoted contest counts for no option, the ballot's other contests still count.
    """
    cast = accepted.select(
        "topic", "partition", "offset", "election_id",
        F.explode("contests").alias("contest"),
    ).select(
        "topic", "partition", "offset", "election_id",
        F.col("contest.contest_id").alias("contest_id"),
        F.col("contest.selections").alias("selections"),
    )
    every_contest = accepted.select(
        "topic", "partition", "offset", "election_id", "region_id", "age_band", "gender",
        "judged_at",
    ).join(contests, "election_id")
    n = F.size(F.coalesce(F.col("selections"), F.array()))
    mark = (
        F.when(n == 0, F.lit("blank"))
        .when((n > F.col("max_selections"))
              | (F.size(F.array_distinct("selections")) != n), F.lit("overvote"))
        .when(n < F.col("max_selections"), F.lit("undervote"))
        .otherwise(F.lit("counted"))
    )
    return (
        every_contest.join(cast, ["topic", "partition", "offset", "election_id", "contest_id"],
                           "left")
        .withColumn("mark", mark)
    )


def option_votes(marks: DataFrame) -> DataFrame:
    """One row per election × contest × option × region: votes in this batch."""
    return (
        marks.where(F.col("mark").isin("counted", "undervote"))
        .select("election_id", "contest_id", "region_id",
                F.explode("selections").alias("option_id"))
        .groupBy("election_id", "contest_id", "option_id", "region_id")
        .agg(F.count(F.lit(1)).alias("n"))
    )


def aggregate_increments(classified: DataFrame, marks: DataFrame) -> DataFrame:
    """Every aggregate increment of a batch, as (kind, election_id, k1..k4, n) rows.

    Kinds: option, option_region, contest (k2..k4 = blank, undervote, overvote), region,
    demographic, minute, rejected_total. One frame, so one Spark action collects them all.
    """
    def rows(frame: DataFrame, kind: str, *keys: str, n: str = "n") -> DataFrame:
        padded = [F.col(k).cast("string") for k in keys] + [F.lit(None).cast("string")] * (
            4 - len(keys))
        return frame.select(
            F.lit(kind).alias("kind"), F.col("election_id"),
            *[c.alias(f"k{i}") for i, c in enumerate(padded, start=1)],
            F.col(n).cast("long").alias("n"),
        )

    accepted = classified.where(F.col("reason").isNull())
    rejected = classified.where(F.col("reason").isNotNull())
    by_option = option_votes(marks)
    per_contest = marks.groupBy("election_id", "contest_id").agg(
        F.count(F.lit(1)).alias("n"),
        F.sum(F.when(F.col("mark") == "blank", 1).otherwise(0)).alias("blank"),
        F.sum(F.when(F.col("mark") == "undervote", 1).otherwise(0)).alias("undervote"),
        F.sum(F.when(F.col("mark") == "overvote", 1).otherwise(0)).alias("overvote"),
    )
    minute = F.date_format(F.date_trunc("minute", "judged_at"), "yyyy-MM-dd'T'HH:mm:ss'Z'")
    return (
        rows(by_option.groupBy("election_id", "contest_id", "option_id").agg(
            F.sum("n").alias("n")), "option", "contest_id", "option_id")
        .unionByName(rows(by_option, "option_region", "contest_id", "option_id", "region_id"))
        .unionByName(rows(per_contest, "contest", "contest_id", "blank", "undervote",
                          "overvote"))
        .unionByName(rows(accepted.groupBy("election_id", "region_id").count(), "region",
                          "region_id", n="count"))
        .unionByName(rows(accepted.groupBy("election_id", "age_band", "gender").count(),
                          "demographic", "age_band", "gender", n="count"))
        .unionByName(rows(accepted.groupBy("election_id", minute.alias("minute")).count(),
                          "minute", "minute", n="count"))
        .unionByName(rows(rejected.withColumn("election_id", F.coalesce("election_id", F.lit("")))
                          .groupBy("election_id", "reason").count(), "rejected_total", "reason",
                          n="count"))
    )


# -- the batch ----------------------------------------------------------------------------


REFERENCE_SCHEMAS = {
    "elections": "election_id string, status string, opens_at timestamp, closes_at timestamp",
    "options": "election_id string, contest_id string, option_id string, max_selections int",
    "voters": "election_id string, credential_sha256 string, voter_id string, "
              "region_id string, age_band string, gender string, has_voted boolean",
}


@dataclass
class BatchResult:
    events: int
    accepted: int
    rejected: int
    seconds: float
    next_offsets: dict[int, int]
    committed_at: datetime | None = None
    broker_times: list[datetime] | None = None  # of the batch's events, for freshness
    phases: dict[str, float] | None = None  # seconds per step


def _reference(spark: SparkSession, url: str, query: str, params: dict, schema: str) -> DataFrame:
    from tallyflow import db

    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query(query), params)
        rows = cur.fetchall()
    return spark.createDataFrame(rows, schema)


def _within(ends: dict[int, int]) -> F.Column:
    """Rows below each partition's end offset (no rows at all when nothing was read)."""
    condition = F.lit(False)
    for partition, end in ends.items():
        condition = condition | ((F.col("partition") == partition) & (F.col("offset") < end))
    return condition


def _cast_window(column: str) -> F.Column:
    seconds = 15 * 60
    return F.timestamp_seconds(F.floor(F.unix_timestamp(column) / seconds) * seconds)


def run_batch(spark: SparkSession, url: str, bootstrap: str, topic: str,
              partitions: list[int], *, max_per_partition: int = 200_000) -> BatchResult:
    """Tally whatever the topic holds past the committed offsets, in one transaction."""
    from datetime import UTC

    from tallyflow.votes import ledger

    started, t0 = datetime.now(UTC), time.perf_counter()
    phases: dict[str, float] = {}
    mark_time = [t0]

    def lap(phase: str) -> None:
        now = time.perf_counter()
        phases[phase] = round(now - mark_time[0], 3)
        mark_time[0] = now

    spark.conf.set("spark.sql.session.timeZone", "UTC")
    start_offsets = ledger.committed_offsets(url, topic, partitions)
    # Read once into the cache, then pin the batch to the offsets that read found: should
    # Spark ever recompute it, it reads the same events and no more.
    parsed = parse_events(
        extract(spark, bootstrap, topic, start_offsets, max_per_partition)
    ).cache()
    ends = {r.partition: r.end for r in parsed.groupBy("partition")
            .agg((F.max("offset") + 1).alias("end")).collect()}
    events = parsed.where(_within(ends))
    lap("read")

    election_ids = [r.election_id for r in events.select("election_id").distinct().collect()
                    if r.election_id is not None]
    hashes = [bytes.fromhex(r.credential_sha256) for r in
              events.where(F.col("malformed_because").isNull())
              .select("credential_sha256").distinct().collect()]
    elections = _reference(spark, url, "tally_reference_elections",
                           {"election_ids": election_ids}, REFERENCE_SCHEMAS["elections"])
    options = _reference(spark, url, "tally_reference_options",
                         {"election_ids": election_ids}, REFERENCE_SCHEMAS["options"])
    voters = _reference(spark, url, "tally_reference_voters", {"credential_hashes": hashes},
                        REFERENCE_SCHEMAS["voters"])
    contests = options.select("election_id", "contest_id", "max_selections").distinct()
    lap("reference")

    classified = classify(events, elections, options, voters).cache()
    accepted = classified.where(F.col("reason").isNull())
    marks = contest_marks(accepted, contests)
    per_event = classified.select(
        "partition", "offset", "reason", "detail", "election_id", "voter_id", "region_id",
        "judged_at", "broker_timestamp",
        F.when(F.col("reason").isNotNull(), F.col("value")).alias("value"),
        F.to_json("contests").alias("contests_json"),
        _cast_window("judged_at").alias("cast_window"),
    ).toArrow().to_pylist()
    lap("classify")
    increments = aggregate_increments(classified, marks).collect()
    lap("aggregate")

    next_offsets = dict(start_offsets)
    batch = ledger.TallyBatch(topic, start_offsets, next_offsets, started)
    for row in per_event:
        next_offsets[row["partition"]] = max(next_offsets[row["partition"]], row["offset"] + 1)
        if row["reason"] is None:
            batch.checkins.append((row["election_id"], row["voter_id"], row["region_id"],
                                   row["judged_at"]))
            batch.ballots.append((row["election_id"], row["region_id"], row["cast_window"],
                                  json.loads(row["contests_json"])))
        else:
            batch.rejected.append((topic, row["partition"], row["offset"], row["election_id"],
                                   row["reason"], row["detail"],
                                   None if row["value"] is None else "\\x" + row["value"].hex(),
                                   row["broker_timestamp"]))
        # Freshness is measured from when the broker took the event in.
        if row["broker_timestamp"] and (batch.newest_event_at is None
                                        or row["broker_timestamp"] > batch.newest_event_at):
            batch.newest_event_at = row["broker_timestamp"]
    for row in increments:
        batch.increments.setdefault(row.kind, []).append(_increment(row))
    classified.unpersist()
    parsed.unpersist()
    lap("prepare")
    if per_event:
        ledger.commit_batch(url, batch, duration_ms=int(1000 * (time.perf_counter() - t0)))
    lap("commit")
    return BatchResult(len(per_event), len(batch.checkins), len(batch.rejected),
                       time.perf_counter() - t0, next_offsets, datetime.now(UTC),
                       [row["broker_timestamp"] for row in per_event], phases)


def _increment(row) -> tuple:
    """An aggregate row as its table's upsert takes it."""
    keys = [k for k in (row.k1, row.k2, row.k3, row.k4) if k is not None]
    if row.kind == "contest":
        return (row.election_id, row.k1, row.n, int(row.k2), int(row.k3), int(row.k4))
    return (row.election_id, *keys, row.n)


def run_micro_batches(spark: SparkSession, url: str, bootstrap: str, topic: str,
                      partitions: list[int], *, seconds: float, stop_when_idle: bool = False,
                      idle_pause: float = 0.5, say=print) -> list[BatchResult]:
    """Run batches back to back for up to ``seconds`` (or until the topic is drained).

    Holds the tally lock so no other tally runs beside it.
    """
    from tallyflow import db
    from tallyflow.kafka import TopicWatcher
    from tallyflow.votes import ledger

    results = []
    with db.connection(url, autocommit=True) as lock_conn:
        if not ledger.try_tally_lock(lock_conn):
            say("another tally is running; this one stops")
            return results
        watcher = TopicWatcher(bootstrap, topic)
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                offsets = ledger.committed_offsets(url, topic, partitions)
                result = None
                if watcher.has_new_events(offsets):
                    result = run_batch(spark, url, bootstrap, topic, partitions)
                if result is not None and result.events:
                    results.append(result)
                    steps = ", ".join(f"{k} {v:.2f}" for k, v in (result.phases or {}).items())
                    say(f"batch: {result.events:,} events, {result.accepted:,} counted, "
                        f"{result.rejected:,} rejected in {result.seconds:.2f} s "
                        f"({result.events / result.seconds:,.0f} events/s; {steps})")
                elif stop_when_idle:
                    break
                else:
                    time.sleep(idle_pause)
        finally:
            watcher.close()
    return results


def main(argv: list[str] | None = None) -> int:
    """``python -m jobs.tally_votes [--seconds S] [--drain]`` against the configured services."""
    import argparse

    from tallyflow.settings import get_settings
    from tallyflow.stack.spark import session

    parser = argparse.ArgumentParser(description="Tally vote events into Postgres.")
    parser.add_argument("--seconds", type=float, default=55.0,
                        help="how long to keep running batches")
    parser.add_argument("--drain", action="store_true",
                        help="stop as soon as a batch finds nothing new")
    args = parser.parse_args(argv)
    settings = get_settings()
    spark = session(settings.spark_remote)
    try:
        run_micro_batches(spark, settings.database_url, settings.kafka_bootstrap,
                          settings.votes_topic, list(range(settings.votes_partitions)),
                          seconds=args.seconds, stop_when_idle=args.drain)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
