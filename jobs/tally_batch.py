"""One tally micro-batch: extract, transform, load.

extract:   read each partition from its committed offset to its end (``jobs.kafka_source``)
transform: parse, check and classify every event (``jobs.tally_transforms``); keep each
           voter's first valid ballot; sum the batch's increments (``jobs.tally_increments``)
load:      write ballots, check-ins, rejected events, aggregate increments and the new
           offsets in one Postgres transaction (``tallyflow.votes.ledger``)

A batch that fails anywhere commits nothing, and the next one starts from the same offsets.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

import pyarrow as pa
from pyspark.sql import DataFrame, SparkSession

from jobs.kafka_source import KafkaRangeSource
from jobs.tally_increments import increments
from jobs.tally_transforms import classify, outcomes, parse_events, reference_frame, with_voters
from jobs.vote_source import LOOKUP_FIELDS, VoteSource
from tallyflow.elections.layout import ballot_layouts, option_rows
from tallyflow.votes import ledger
from tallyflow.votes.offsets import Offsets
from tallyflow.votes.secrecy import ballot_group_cut, kept_payload

if TYPE_CHECKING:
    from tallyflow.kafka import TopicWatcher

# Events one batch reads per partition at most. A backlog drains in batches this size, so
# a batch after an outage fits in the Spark server's memory (a batch of 800,000 events ran
# a 2 GiB server out of heap).
MAX_PER_PARTITION = 50_000


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
        .option("start_offsets", json.dumps(Offsets(start_offsets).to_json()))
        .option("max_per_partition", str(max_per_partition))
        .load()
    )


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
        options = option_rows(ballot_layouts(cur, counting))
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
    batch = _ledger_batch(topic, start_offsets, next_offsets, started, epochs, per_event,
                          added, watcher)
    lap("prepare")
    if len(per_event):
        ledger.commit_batch(url, batch, duration_ms=int(1000 * (time.perf_counter() - t0)))
    lap("commit")
    return BatchResult(len(per_event), batch.accepted, len(batch.rejected),
                       time.perf_counter() - t0, next_offsets, datetime.now(UTC),
                       per_event.column("broker_timestamp").to_pylist(), phases,
                       {row[0] for rows in added.values() for row in rows} & known,
                       held=read - len(per_event))


def _ledger_batch(topic: str, start_offsets: dict[int, int], next_offsets: dict[int, int],
                  started: datetime, epochs: dict[int, int], per_event: pa.Table,
                  added: dict[str, list[tuple]],
                  watcher: TopicWatcher | None) -> ledger.TallyBatch:
    """What the ledger commits for a batch: check-ins and ballots of the counted events,
    the rejected ones with their reason (the payload as ``secrecy.kept_payload`` keeps it),
    the aggregate increments and the new offsets."""
    import pyarrow.compute as pc

    counted = pc.is_null(per_event.column("reason"))
    accepted = per_event.filter(counted)
    rejected = per_event.filter(pc.invert(counted)).to_pylist()
    received = per_event.column("broker_timestamp")
    return ledger.TallyBatch(
        topic, start_offsets, next_offsets, started, epochs,
        checkins=accepted.select(["election_id", "voter_id", "region_id", "judged_at",
                                  "receipt"]),
        ballots=accepted.select(["election_id", "region_id", "party_id", "vote_method",
                                 "selections"]),
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
