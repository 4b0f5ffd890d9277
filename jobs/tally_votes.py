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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession, Window
from pyspark.sql import functions as F
from pyspark.sql.types import (
    ArrayType,
    BinaryType,
    IntegerType,
    LongType,
    StringType,
    StructField,
    StructType,
    TimestampType,
)

from jobs.kafka_source import KafkaRangeSource
from jobs.vote_source import ELECTION_STATE_FIELDS, LOOKUP_FIELDS, VOTER_FIELDS, VoteSource
from tallyflow.votes.secrecy import ballot_group_cut, kept_payload

if TYPE_CHECKING:
    from tallyflow.kafka import TopicWatcher

# A ballot's contests as the tally reads them (``tallyflow.votes.event.read_event``).
CONTESTS = ArrayType(StructType([
    StructField("contest_id", StringType()),
    StructField("selections", ArrayType(StringType())),
]))

# What parse_events returns (a test holds the two together): known here, so building the
# batch's plan never has to ask the Spark server for it.
PARSED_EVENT = StructType(
    [
        StructField("topic", StringType(), False),
        StructField("partition", IntegerType(), False),
        StructField("offset", LongType(), False),
        StructField("broker_timestamp", TimestampType()),
        StructField("value", BinaryType()),
        StructField("event_id", StringType()),
        StructField("election_id", StringType()),
        StructField("credential_sha256", StringType()),
        StructField("receipt", StringType()),
        StructField("contests", CONTESTS),
        StructField("judged_at", TimestampType()),
        StructField("malformed_because", StringType()),
    ]
)

# Events one batch reads per partition at most. A backlog drains in batches this size, so
# a batch after an outage fits in the Spark server's memory (a batch of 800,000 events ran
# a 2 GiB server out of heap).
MAX_PER_PARTITION = 50_000
# Seconds between two runs of the outbox relay while the tally runs.
RELAY_INTERVAL = 2.0
# Seconds between two reads of ballots held back for their group while nothing new comes.
HOLD_RECHECK = 5.0


# -- extract ------------------------------------------------------------------------------


def extract(spark: SparkSession, bootstrap: str, topic: str, start_offsets: dict[int, int],
            max_per_partition: int, database_url: str | None = None) -> DataFrame:
    """One row per Kafka message: topic, partition, offset, broker_timestamp, key, value.

    With ``database_url``, each row also carries the voter its credential belongs to, looked
    up as the partition is read (``jobs.vote_source``; ``with_voters`` keeps them).
    """
    if not getattr(spark, "_tallyflow_kafka_registered", False):
        spark.dataSource.register(KafkaRangeSource)
        spark.dataSource.register(VoteSource)
        spark._tallyflow_kafka_registered = True
    reader = (spark.read.format("tallyflow_kafka") if database_url is None else
              spark.read.format("tallyflow_votes").option("database_url", database_url))
    return (
        reader.option("bootstrap", bootstrap)
        .option("topic", topic)
        .option("start_offsets", json.dumps({str(p): o for p, o in start_offsets.items()}))
        .option("max_per_partition", str(max_per_partition))
        .load()
    )


# -- transform ----------------------------------------------------------------------------


# What ``read_events`` adds to each message (``tallyflow.votes.event.read_event``).
READ_FIELDS = [
    StructField("event_id", StringType()),
    StructField("election_id", StringType()),
    StructField("credential_sha256", StringType()),
    StructField("receipt", StringType()),
    StructField("contests", CONTESTS),
    StructField("malformed_because", StringType()),
]


def read_events(batches):
    """``mapInArrow``: each message's fields and verdict, read in Python by the same code
    the casting API checks ballots with (``tallyflow.votes.event.read_event``)."""
    import pyarrow as pa

    from tallyflow.votes.event import read_event

    contests_type = pa.list_(pa.struct([("contest_id", pa.string()),
                                        ("selections", pa.list_(pa.string()))]))
    for batch in batches:
        read = [read_event(v) for v in batch.column("value").to_pylist()]
        columns = [
            pa.array([r.event_id for r in read], pa.string()),
            pa.array([r.election_id for r in read], pa.string()),
            pa.array([r.credential_sha256 for r in read], pa.string()),
            pa.array([r.receipt for r in read], pa.string()),
            pa.array([r.contests for r in read], contests_type),
            pa.array([r.problem for r in read], pa.string()),
        ]
        names = [f.name for f in READ_FIELDS]
        yield pa.RecordBatch.from_arrays(
            [*batch.columns, *columns],
            schema=pa.schema([*batch.schema, *(pa.field(n, c.type)
                                               for n, c in zip(names, columns, strict=True))]))


def parse_events(raw: DataFrame, keep: Sequence[str] = ()) -> DataFrame:
    """One row per Kafka message, with the event's fields and why it is malformed (or null).

    The event is read and checked by ``read_events``, in Python: one check of an event's
    form for the casting API and the tally. Columns of ``raw`` named in ``keep`` (a voter
    looked up at the source) pass through after ``PARSED_EVENT``'s. An event is judged
    (``judged_at``) by when the casting API took it in, where ``raw`` has that lookup
    (``jobs.vote_source``) for this very event id, and otherwise by the broker's timestamp:
    the ``received_at`` an event claims is checked for form only, so a producer cannot
    backdate a late ballot into the count.
    """
    read = raw.mapInArrow(read_events, StructType([*raw.schema.fields, *READ_FIELDS]))
    submitted_at = (F.when(F.col("looked_up_event_id") == F.lower(F.col("event_id")),
                           F.col("submitted_at"))
                    if "submitted_at" in raw.columns else F.lit(None).cast("timestamp"))
    return read.select(
        "topic", "partition", "offset", "broker_timestamp", "value", "event_id",
        "election_id", "credential_sha256", "receipt", "contests",
        F.coalesce(submitted_at, F.col("broker_timestamp")).alias("judged_at"),
        "malformed_because",
        *keep,
    )


def attach_voters(events: DataFrame, voters: DataFrame) -> DataFrame:
    """``events`` with the voter each credential belongs to (null columns when none), and
    no election state read with them (``classify`` then judges by the reference alone).

    ``voters``: election_id, credential_sha256 and the ``VOTER_FIELDS`` columns.
    """
    return events.join(voters, ["election_id", "credential_sha256"], "left").select(
        "*", *[F.lit(None).cast(f.dataType).alias(f.name) for f in ELECTION_STATE_FIELDS])


def with_voters(events: DataFrame) -> DataFrame:
    """``attach_voters`` for ``parse_events`` output of a voter-looking-up read (``extract``
    with a database URL): each event keeps the voter looked up for it only where this job's
    own parse finds the same election and credential hash, so an event the lookup read
    differently (a key given twice, say) has no voter, never someone else's.
    """
    same = ((F.col("looked_up_election_id") == F.col("election_id"))
            & (F.col("looked_up_credential_sha256") == F.col("credential_sha256")))
    return events.select(
        *PARSED_EVENT.names,
        *[F.when(same, F.col(f.name)).alias(f.name)
          for f in [*VOTER_FIELDS, *ELECTION_STATE_FIELDS]],
    )


ELECTIONS_SCHEMA = (
    "election_id string, status string, opens_at timestamp, closes_at timestamp, "
    "opened_at timestamp, "
    "layout map<string, struct<max_selections:int, options:array<string>>>, "
    "ballot_contests array<struct<contest_id:string, max_selections:int>>"
)


def reference_frame(spark: SparkSession, elections: list[tuple],
                    options: list[tuple]) -> DataFrame:
    """One small row per election, built in the driver so Spark has nothing to shuffle.

    ``elections``: (election_id, status, opens_at, closes_at[, opened_at]), where
    ``opened_at`` is the instant the election was opened; ``options``: (election_id,
    contest_id, option_id, max_selections). ``layout`` maps each contest to how many
    selections it allows and its options; ``ballot_contests`` lists the contests.
    """
    layouts: dict[str, dict[str, tuple[int, list[str]]]] = {}
    for election_id, contest_id, option_id, max_selections in options:
        contest = layouts.setdefault(election_id, {}).setdefault(
            contest_id, (max_selections, []))
        contest[1].append(option_id)
    rows = []
    for election_id, status, opens_at, closes_at, *opened in elections:
        layout = layouts.get(election_id)
        rows.append((
            election_id, status, opens_at, closes_at, opened[0] if opened else None,
            {c: (most, sorted(opts)) for c, (most, opts) in layout.items()} if layout else None,
            [(c, most) for c, (most, _opts) in sorted(layout.items())] if layout else None,
        ))
    return spark.createDataFrame(rows, ELECTIONS_SCHEMA)


def _utc(column: str) -> F.Column:
    """A time as people read it in a reason (the session time zone is UTC)."""
    return F.date_format(column, "yyyy-MM-dd HH:mm:ss'Z'")


def classify(events: DataFrame, elections: DataFrame) -> DataFrame:
    """One row per event with ``reason`` (null when it counts) and ``detail``.

    ``events`` are parsed events with their voters attached (``attach_voters`` or
    ``with_voters``). Checks run in order: malformed, unknown_election, not_open / closed,
    unknown_credential, unknown_contest, unknown_option, duplicate. The first valid ballot
    of a voter counts, judged by receipt time then partition and offset; one already counted
    in an earlier batch (``has_voted``) makes every new one a duplicate. ``elections``
    (``reference_frame``) is small and broadcast, so the only shuffle is the one that
    ranks a voter's ballots. Where an event carries its election's state as read after the
    event (``with_voters``), its time is judged against that state, never against the
    reference read before the batch.
    """
    checked = events.join(F.broadcast(elections.drop("ballot_contests")), "election_id", "left")
    state_read_later = F.col("election_status").isNotNull()
    for name in ("status", "opens_at", "closes_at", "opened_at"):
        checked = checked.withColumn(
            name, F.when(state_read_later, F.col(f"election_{name}")).otherwise(F.col(name)))
    cast = F.coalesce(F.col("contests"), F.array())
    layout = F.col("layout")
    unknown_contest = F.try_element_at(
        F.filter(cast, lambda c: ~F.coalesce(F.map_contains_key(layout, c.contest_id),
                                             F.lit(False))),
        F.lit(1),
    ).contest_id
    unknown_option = F.array_min(F.flatten(F.transform(cast, lambda c: F.transform(
        F.filter(F.coalesce(c.selections, F.array()), lambda o: ~F.array_contains(
            F.try_element_at(layout, c.contest_id).options, o)),
        lambda o: F.concat_ws("/", c.contest_id, o),
    ))))
    checked = checked.withColumn("unknown_contest", unknown_contest).withColumn(
        "unknown_option", unknown_option)
    reason = (
        F.when(F.col("malformed_because").isNotNull(), F.lit("malformed"))
        .when(F.col("status").isNull(), F.lit("unknown_election"))
        .when(F.col("status").isin("draft", "scheduled")
              | (F.col("judged_at") < F.col("opens_at"))
              | (F.col("judged_at") < F.col("opened_at")), F.lit("not_open"))
        .when((F.col("status") == "certified")
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
              F.format_string("received %s, opens %s", _utc("judged_at"), _utc("opens_at")))
        .when(F.col("judged_at") < F.col("opened_at"),
              F.format_string("received %s, opened %s", _utc("judged_at"),
                              _utc("opened_at")))
        .when(F.col("status") == "certified", F.lit("election is certified"))
        .when(F.col("judged_at") >= F.col("closes_at"),
              F.format_string("received %s, closed %s", _utc("judged_at"),
                              _utc("closes_at")))
        .when(F.col("voter_id").isNull(), F.lit("no voter of this election has this credential"))
        .when(F.col("unknown_contest").isNotNull(),
              F.format_string("no contest %s", "unknown_contest"))
        .when(F.col("unknown_option").isNotNull(),
              F.format_string("no option %s", "unknown_option"))
    )
    classified = checked.withColumn("reason", reason).withColumn("detail", detail).drop(
        "layout", "unknown_contest", "unknown_option", "opened_at",
        *[f.name for f in ELECTION_STATE_FIELDS])
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


def _marked(events: DataFrame, elections: DataFrame) -> DataFrame:
    """``events`` with ``marks``: per contest of its election, the selections and the mark
    (null for an election that is not counting). ``outcomes`` keeps them for counted
    ballots only.

    Each election's contest list is small and broadcast, so nothing is shuffled.
    """
    ballot_contests = elections.select("election_id", "ballot_contests")
    cast = F.coalesce(F.col("contests"), F.array())

    def mark(contest):
        selections = F.try_element_at(
            F.filter(cast, lambda x: x.contest_id == contest.contest_id), F.lit(1)).selections
        n = F.size(F.coalesce(selections, F.array()))
        how = (
            F.when(n == 0, F.lit("blank"))
            .when((n > contest.max_selections)
                  | (F.size(F.array_distinct(selections)) != n), F.lit("overvote"))
            .when(n < contest.max_selections, F.lit("undervote"))
            .otherwise(F.lit("counted"))
        )
        return F.struct(contest.contest_id.alias("contest_id"),
                        selections.alias("selections"), how.alias("mark"))

    return (
        events.join(F.broadcast(ballot_contests), "election_id", "left")
        .withColumn("marks", F.transform("ballot_contests", mark))
        .drop("ballot_contests")
    )


def contest_marks(accepted: DataFrame, elections: DataFrame) -> DataFrame:
    """One row per counted ballot × contest of its election: the selections and how they count.

    ``mark`` is ``counted``, ``undervote`` (fewer selections than allowed), ``blank`` (none,
    or the contest left off the ballot) or ``overvote`` (more than allowed, or a repeat);
    an overvoted contest counts for no option, the ballot's other contests still count.
    """
    return _marked(accepted, elections).select(
        "topic", "partition", "offset", "election_id", "region_id",
        F.explode("marks").alias("m"),
    ).select("*", "m.contest_id", "m.selections", "m.mark").drop("m")


def outcomes(classified: DataFrame, elections: DataFrame) -> DataFrame:
    """One row per event: what the ledger stores of it and what the aggregates count.

    Rejected events keep their payload (``value``) and reason; counted ones their
    selections (JSON text, for the ballot), their voter's cell and, per contest of the
    election, the ``marks`` (``contest_marks``). ``increments`` sums them up.
    """
    return _marked(classified, elections).select(
        "partition", "offset", "reason", "detail", "election_id", "voter_id", "region_id",
        "age_band", "gender", "judged_at", "broker_timestamp", "receipt",
        F.when(F.col("reason").isNotNull(), F.col("value")).alias("value"),
        F.when(F.col("reason").isNull(), F.to_json("contests")).alias("selections"),
        F.when(F.col("reason").isNull(), F.col("marks")).alias("marks"),
    )


def _count(table: pa.Table, keys: list[str]) -> list[tuple]:
    """(*keys, n) for each distinct combination of ``keys`` in ``table``."""
    counted = table.select(keys).group_by(keys).aggregate([([], "count_all")])
    return list(zip(*(counted.column(k).to_pylist() for k in [*keys, "count_all"]),
                    strict=True))


def increments(per_event: pa.Table) -> dict[str, list[tuple]]:
    """A batch's aggregate increments from its ``outcomes``, as each table's upsert takes
    them: (election_id, *keys, n) per kind.

    The events are in the driver already (the ledger stores each of them), so the sums are
    taken there, vectorised with Arrow, rather than in a second Spark job. Kinds: option
    (contest, option), option_region (contest, option, region), contest (contest, ballots,
    blank, undervote, overvote), region, demographic (age band, gender), minute and
    rejected_total (reason). An option counts where its contest's mark is ``counted`` or
    ``undervote``.
    """
    import pyarrow.compute as pc

    counted = pc.is_null(per_event.column("reason"))
    accepted = per_event.filter(counted)
    rejected = per_event.filter(pc.invert(counted))
    by_kind: dict[str, list[tuple]] = {
        "region": _count(accepted, ["election_id", "region_id"]),
        "demographic": _count(accepted, ["election_id", "age_band", "gender"]),
        "minute": _count(accepted.append_column(
            "minute", pc.floor_temporal(accepted.column("judged_at"), unit="minute")),
            ["election_id", "minute"]),
        "rejected_total": _count(rejected.set_column(
            rejected.schema.get_field_index("election_id"), "election_id",
            pc.fill_null(rejected.column("election_id"), "")), ["election_id", "reason"]),
    }
    marks_column = accepted.column("marks").combine_chunks()
    marks = pc.list_flatten(marks_column)
    owner = pc.list_parent_indices(marks_column)
    contests = pa.table({
        "election_id": accepted.column("election_id").take(owner),
        "region_id": accepted.column("region_id").take(owner),
        "contest_id": pc.struct_field(marks, "contest_id"),
        "mark": pc.struct_field(marks, "mark"),
        "selections": pc.struct_field(marks, "selections"),
    })
    totals: dict[tuple[str, str], list[int]] = {}
    slots = {"blank": 1, "undervote": 2, "overvote": 3}
    for election_id, contest_id, mark, n in _count(contests,
                                                   ["election_id", "contest_id", "mark"]):
        row = totals.setdefault((election_id, contest_id), [0, 0, 0, 0])
        row[0] += n
        if mark in slots:
            row[slots[mark]] += n
    by_kind["contest"] = [(e, c, *t) for (e, c), t in totals.items()]
    voting = contests.filter(pc.is_in(contests.column("mark"),
                                      pa.array(["counted", "undervote"])))
    selections = voting.column("selections").combine_chunks()
    picks = voting.take(pc.list_parent_indices(selections)).select(
        ["election_id", "contest_id", "region_id"]).append_column(
        "option_id", pc.list_flatten(selections))
    by_kind["option_region"] = _count(
        picks, ["election_id", "contest_id", "option_id", "region_id"])
    by_kind["option"] = _count(picks, ["election_id", "contest_id", "option_id"])
    return {kind: rows for kind, rows in by_kind.items() if rows}


# -- the batch ----------------------------------------------------------------------------


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
    elections: set[str] = field(default_factory=set)  # whose aggregates the batch moved
    held: int = 0  # events read but left for a later batch: ballots waiting for their group


def _reference(spark: SparkSession, url: str) -> tuple[DataFrame, set[str], set[str]]:
    """Every election with the ballot layout of those still counting (``reference_frame``),
    the ids of every election, and of those whose ballots are counted in groups (still
    scheduled or open, unless a release is asked for: ``release_ballot_groups``)."""
    from tallyflow import db

    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("tally_reference_elections"))
        elections = cur.fetchall()
        # A closed election's ballots received before its close still count while the
        # backlog drains: certification waits for that. A scheduled one's layout is there
        # too: it may open while the batch reads (each event carries the state read after
        # it, see jobs.vote_source).
        counting = [row[0] for row in elections if row[1] in ("scheduled", "open", "closed")]
        cur.execute(db.query("tally_reference_options"), {"election_ids": counting})
        options = cur.fetchall()
        cur.execute(db.query("ballot_groups_released"))
        released = cur.fetchone()[0]
    grouped = set() if released else {row[0] for row in elections
                                      if row[1] in ("scheduled", "open")}
    return (reference_frame(spark, elections, options), {row[0] for row in elections},
            grouped)


def run_batch(spark: SparkSession, url: str, bootstrap: str, topic: str,
              partitions: list[int], *, max_per_partition: int = MAX_PER_PARTITION,
              watcher: TopicWatcher | None = None,
              start_offsets: dict[int, int] | None = None,
              ballot_group: int = 1) -> BatchResult:
    """Tally whatever the topic holds past the committed offsets, in one transaction.

    One Spark job classifies every event (``outcomes``); the aggregate increments are summed
    from its result in the driver (``increments``). ``start_offsets`` are the committed
    offsets when the caller has just read them; the commit checks them either way. An open
    election's ballots are committed in groups of at least ``ballot_group`` per region
    (``tallyflow.votes.secrecy.ballot_group_cut``; the platform passes
    ``TALLYFLOW_BALLOT_GROUP``, 1 counts each ballot at once): the events from a ballot held
    back on are read again by the next batch.
    """
    from datetime import UTC

    import pyarrow.compute as pc

    from tallyflow.votes import ledger

    started, t0 = datetime.now(UTC), time.perf_counter()
    phases: dict[str, float] = {}
    mark_time = [t0]

    def lap(phase: str) -> None:
        now = time.perf_counter()
        phases[phase] = round(now - mark_time[0], 3)
        mark_time[0] = now

    spark.conf.set("spark.sql.session.timeZone", "UTC")
    if start_offsets is None:
        start_offsets = ledger.committed_offsets(url, topic, partitions)
    epochs = {p: epoch for p, (epoch, _id) in ledger.committed_epochs(url, topic).items()}
    elections, known, grouped = _reference(spark, url)
    events = parse_events(extract(spark, bootstrap, topic, start_offsets, max_per_partition,
                                  database_url=url), keep=[f.name for f in LOOKUP_FIELDS])
    classified = classify(with_voters(events), elections)
    lap("reference")
    per_event = outcomes(classified, elections).toArrow()
    lap("classify")
    read = len(per_event)
    per_event, cut = _in_groups(per_event, grouped, ballot_group)
    added = increments(per_event)
    lap("aggregate")
    next_offsets = {p: max(o, cut.get(p, 0)) for p, o in start_offsets.items()}
    counted = pc.is_null(per_event.column("reason"))
    accepted = per_event.filter(counted)
    rejected = per_event.filter(pc.invert(counted)).to_pylist()
    received = per_event.column("broker_timestamp")
    batch = ledger.TallyBatch(
        topic, start_offsets, next_offsets, started, epochs,
        checkins=accepted.select(["election_id", "voter_id", "region_id", "judged_at",
                                  "receipt"]),
        ballots=accepted.select(["election_id", "region_id", "selections"]),
        rejected=[(topic, r["partition"], r["offset"], r["election_id"], r["reason"],
                   r["detail"], _bytea(kept_payload(r["value"])),
                   r["broker_timestamp"], r["receipt"], epochs.get(r["partition"], 0))
                  for r in rejected],
        increments=added,
        partition_accepted=[
            (topic, r["partition"], r["election_id"], r["offset_count"]) for r in
            accepted.group_by(["partition", "election_id"]).aggregate([("offset", "count")])
            .to_pylist()
        ],
        # Freshness is measured from when the broker took the event in.
        oldest_event_at=pc.min(received).as_py() if len(per_event) else None,
        newest_event_at=pc.max(received).as_py() if len(per_event) else None,
        consumer_lag=watcher.lag(next_offsets) if watcher is not None else None,
    )
    lap("prepare")
    if len(per_event):
        ledger.commit_batch(url, batch, duration_ms=int(1000 * (time.perf_counter() - t0)))
    lap("commit")
    return BatchResult(len(per_event), len(accepted), len(rejected),
                       time.perf_counter() - t0, next_offsets, datetime.now(UTC),
                       received.to_pylist(), phases,
                       {row[0] for rows in added.values() for row in rows} & known,
                       held=read - len(per_event))


def _in_groups(per_event: pa.Table, grouped: set[str],
               ballot_group: int) -> tuple[pa.Table, dict[int, int]]:
    """The events a batch commits, and where each partition's committed prefix ends: ballots
    of the ``grouped`` elections only in groups of ``ballot_group`` per region."""
    import pyarrow.compute as pc

    ends = {row["partition"]: row["offset_max"] + 1 for row in
            per_event.group_by("partition").aggregate([("offset", "max")]).to_pylist()}
    if ballot_group <= 1 or not grouped or not len(per_event):
        return per_event, ends
    per_event = per_event.combine_chunks()
    counted = pc.and_(pc.is_null(per_event.column("reason")),
                      pc.is_in(per_event.column("election_id"), pa.array(sorted(grouped))))
    cell = pc.binary_join_element_wise(per_event.column("election_id"),
                                       per_event.column("region_id"), "\x00")
    ids = pc.dictionary_encode(cell.combine_chunks()).indices
    groups = pc.if_else(pc.fill_null(counted, False), ids, -1)
    cut = ballot_group_cut(per_event.column("partition").to_numpy(),
                           per_event.column("offset").to_numpy(),
                           groups.to_numpy(zero_copy_only=False), ends, ballot_group)
    if cut == ends:
        return per_event, ends
    limit = pc.take(pa.array([cut.get(p, 0) for p in range(max(ends) + 1)], pa.int64()),
                    per_event.column("partition"))
    return per_event.filter(pc.less(per_event.column("offset"), limit)), cut


def _bytea(value: bytes | None) -> str | None:
    return None if value is None else "\\x" + value.hex()


def run_micro_batches(spark: SparkSession, url: str, bootstrap: str, topic: str,
                      partitions: list[int], *, seconds: float, stop_when_idle: bool = False,
                      idle_pause: float = 0.2, quality_dir: Path | None = None,
                      max_per_partition: int = MAX_PER_PARTITION,
                      ballot_group: int = 1,
                      say=print) -> list[BatchResult]:
    """Run batches back to back for up to ``seconds`` (or until the topic is drained).

    Ballots held back for their group (``run_batch``) are read again when new events come
    in, or every ``HOLD_RECHECK`` seconds (their election may have closed); a batch that
    only holds counts as idle, so a drain stops with them still in the broker.

    Holds the tally lock so no other tally runs beside it. After each batch the
    data-quality gate checks the aggregates of every election the batch moved (in memory);
    with ``quality_dir`` it also writes a Data Docs report whenever an election's verdict
    changes, and once more for each election at the end of the run.
    """
    from tallyflow import db
    from tallyflow.kafka import TopicWatcher
    from tallyflow.votes import ledger, outbox
    from tallyflow.votes.quality import check_aggregates

    results = []
    checked: set[str] = set()

    def gate(election_id: str, report: bool) -> None:
        verdict = check_aggregates(url, election_id, topic, quality_dir,
                                   report_only_on_change=not report)
        if verdict.status != "ok":
            say(f"{election_id}: results on quality hold: " + "; ".join(verdict.failures))
        elif verdict.changed and verdict.previous_status is not None:
            say(f"{election_id}: quality hold lifted, every check passes again")

    with db.connection(url, autocommit=True) as lock_conn:
        if not ledger.try_tally_lock(lock_conn):
            say("another tally is running; this one stops")
            return results
        watcher = TopicWatcher(bootstrap, topic)
        publisher = outbox.Publisher(url, bootstrap, topic)
        relayed_at = 0.0
        holding: tuple[dict[int, int], float, int] | None = None  # (ends, when, events)
        try:
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                if time.monotonic() - relayed_at > RELAY_INTERVAL:
                    relay(publisher, say)
                    relayed_at = time.monotonic()
                # Partitions added to the topic are read from their first batch on.
                partitions = sorted(set(partitions) | set(watcher.partitions()))
                offsets = ledger.committed_offsets(url, topic, partitions)
                result = None
                lows, ends = watcher.bounds(offsets)
                if rebased(url, topic, watcher, offsets, lows, ends, say):
                    relayed_at = 0.0  # publish the forgotten ballots again right away
                    continue
                unchanged = (holding is not None and holding[0] == ends
                             and time.monotonic() - holding[1] < HOLD_RECHECK)
                if any(ends[p] > offsets[p] for p in offsets) and not unchanged:
                    result = run_batch(spark, url, bootstrap, topic, partitions,
                                       watcher=watcher, start_offsets=offsets,
                                       max_per_partition=max_per_partition,
                                       ballot_group=ballot_group)
                    if (result.held and not result.events
                            and (holding is None or holding[2] != result.held)):
                        say(f"{result.held:,} event(s) held back until their region has "
                            f"{ballot_group} ballots to count together (ballot secrecy)")
                    # Only a batch that counted nothing is left to wait for new events.
                    holding = ((ends, time.monotonic(), result.held)
                               if result.held and not result.events else None)
                if result is not None and result.events:
                    results.append(result)
                    steps = ", ".join(f"{k} {v:.2f}" for k, v in (result.phases or {}).items())
                    held = f", {result.held:,} held for their group" if result.held else ""
                    say(f"batch: {result.events:,} events, {result.accepted:,} counted, "
                        f"{result.rejected:,} rejected{held} in {result.seconds:.2f} s "
                        f"({result.events / result.seconds:,.0f} events/s; {steps})")
                    gate_started = time.perf_counter()
                    for election_id in sorted(result.elections):
                        gate(election_id, report=False)
                    if result.phases is not None:
                        result.phases["gate"] = round(time.perf_counter() - gate_started, 3)
                    checked |= result.elections
                elif stop_when_idle:
                    # What this run read past is settled; what the relay publishes now, and
                    # what the API is still publishing, is tallied before the run stops.
                    report = relay(publisher, say)
                    if report.published:
                        continue
                    if report.waiting:  # the API's publish, or a broker slow to take it
                        time.sleep(idle_pause)
                        continue
                    break
                else:
                    time.sleep(idle_pause)
            if quality_dir is not None:
                for election_id in sorted(checked):
                    gate(election_id, report=True)
        finally:
            watcher.close()
            publisher.close()
    return results


def rebased(url: str, topic: str, watcher: TopicWatcher, offsets: dict[int, int],
            lows: dict[int, int], ends: dict[int, int], say=print) -> bool:
    """Re-base partitions whose log is not the one their offsets were read from (see
    ``tallyflow.votes.ledger.log_changes``); True when it did."""
    from tallyflow.votes import ledger

    epochs = ledger.committed_epochs(url, topic)
    topic_id = watcher.topic_id()
    changes = ledger.log_changes(offsets, epochs, topic_id, lows, ends)
    if not changes:
        if topic_id is not None and any(known is None for _e, known in epochs.values()):
            ledger.adopt_topic_id(url, topic, topic_id)
        return False
    ledger.rebase(url, topic, changes, topic_id)
    for change in changes:
        say(f"{topic}[{change.partition}]: {change.reason}; counting its new log from offset "
            f"{change.new_start} (epoch {change.log_epoch + 1}); receipted ballots not yet "
            "counted are published again")
    return True


def relay(publisher, say=print):
    """The casting API's outbox relay (``tallyflow.votes.outbox.relay``), reporting what it
    did; a broker that does not answer leaves the rows for the next run. Returns its
    ``RelayReport``."""
    from tallyflow.votes import outbox

    report = outbox.relay(publisher.url, publisher)
    if report.lost or report.published or report.unpublished:
        say(f"outbox: {report.published:,} ballot(s) published, {report.lost:,} found lost "
            f"by the broker, {report.unpublished:,} still waiting for the broker")
    return report


def main(argv: list[str] | None = None) -> int:
    """``python -m jobs.tally_votes [--seconds S] [--drain]`` against the configured services."""
    import argparse

    from tallyflow.settings import get_settings
    from tallyflow.stack.spark import session

    parser = argparse.ArgumentParser(description="Tally vote events into Postgres.")
    parser.add_argument("--seconds", type=float, default=290.0,
                        help="how long to keep running batches")
    parser.add_argument("--drain", action="store_true",
                        help="stop as soon as a batch finds nothing new")
    args = parser.parse_args(argv)
    settings = get_settings()
    spark = session(settings.spark_remote)
    try:
        run_micro_batches(spark, settings.database_url, settings.kafka_bootstrap,
                          settings.votes_topic, list(range(settings.votes_partitions)),
                          seconds=args.seconds, stop_when_idle=args.drain,
                          quality_dir=settings.data_quality_dir,
                          ballot_group=settings.ballot_group)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
