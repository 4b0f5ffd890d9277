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
from collections.abc import Callable
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
from tallyflow.votes.held import pool as held_pool
from tallyflow.votes.held import rows as held_rows
from tallyflow.votes.offsets import Offsets
from tallyflow.votes.secrecy import ballots_to_count, kept_payload

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
    events: int  # read, all of them past the committed offsets now
    accepted: int  # ballots counted, including held ones whose group came
    rejected: int
    seconds: float
    next_offsets: dict[int, int]
    committed_at: datetime | None = None
    # When the broker took in each event this batch read and counted or rejected (held
    # ones not: they wait for their group), for freshness.
    broker_times: list[datetime] | None = None
    phases: dict[str, float] | None = None  # seconds per step
    elections: set[str] = field(default_factory=set)  # whose aggregates the batch moved
    held: int = 0  # ballots read and left to wait for their group
    # When the broker took in each held ballot this batch counted: what waiting for a
    # group cost them.
    released_times: list[datetime] = field(default_factory=list)
    waiting: int = 0  # ballots waiting for their group after the batch, over every election


@dataclass(frozen=True)
class Reference:
    """What a batch judges and groups by, read before it reads the broker."""

    elections: DataFrame  # ``reference_frame``
    known: set[str]  # every election's id
    grouped: set[str]  # elections whose ballots count in groups: not yet certified
    final: set[str]  # closed ones whose every ballot is in the broker (final_count_elections)


def _reference(spark: SparkSession, url: str, ballot_group: int) -> Reference:
    """Every election with the ballot layout of those still counting (``reference_frame``)
    and how their ballots are grouped.

    The closed elections that may have their last groups counted are read after every
    casting transaction still taking one of their ballots has ended
    (``lock_closed_elections``), so none is receipted after this read.
    """
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
        final: set[str] = set()
        if any(row[1] == "closed" for row in elections):
            cur.execute(db.query("lock_closed_elections"))
            cur.execute(db.query("final_count_elections"))
            final = {row[0] for row in cur.fetchall()}
    grouped = set(counting) if ballot_group > 1 else set()
    return Reference(reference_frame(spark, elections, options), {row[0] for row in elections},
                     grouped, final)


def run_batch(spark: SparkSession, url: str, bootstrap: str, topic: str,
              partitions: list[int], *, max_per_partition: int = MAX_PER_PARTITION,
              watcher: TopicWatcher | None = None,
              start_offsets: dict[int, int] | None = None,
              ballot_group: int = 1) -> BatchResult:
    """Tally whatever the topic holds past the committed offsets, in one transaction.

    One Spark job classifies every event (``outcomes``); the increments are summed in the
    driver (``increments``). ``start_offsets``: the committed offsets, when the caller has
    just read them (the commit checks them either way). Every event read is committed:
    rejects at once, ballots in groups of at least ``ballot_group`` per region
    (``_in_groups``; 1 counts each at once), the rest kept in ``held_ballots``."""
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
    reference = _reference(spark, url, ballot_group)
    # Last groups only by a read to the log's end as it is after the reference (see there).
    log_ends = _log_ends(bootstrap, topic, start_offsets, watcher) if reference.final else {}
    events = parse_events(extract(spark, bootstrap, topic, start_offsets, max_per_partition,
                                  database_url=url), keep=[f.name for f in LOOKUP_FIELDS])
    classified = classify(with_voters(events), reference.elections)
    lap("reference")
    per_event = outcomes(classified, reference.elections).toArrow()
    lap("classify")
    read_ends = _read_ends(per_event, start_offsets)
    final = reference.final if all(read_ends[p] >= end for p, end in log_ends.items()) else set()
    counted, held, released = _in_groups(url, per_event, reference.grouped, final,
                                         ballot_group)
    added = increments(counted)
    lap("aggregate")
    batch = _ledger_batch(topic, start_offsets, read_ends, started, epochs, counted, added,
                          watcher, per_event.column("broker_timestamp"))
    batch.held = held_rows(topic, held, epochs)
    batch.released = list(zip(released.column("election_id").to_pylist(),
                              released.column("voter_id").to_pylist(), strict=True))
    lap("prepare")
    waiting = 0
    if len(per_event) or batch.released:
        waiting = ledger.commit_batch(url, batch,
                                      duration_ms=int(1000 * (time.perf_counter() - t0)))
    lap("commit")
    return BatchResult(len(per_event), batch.accepted, len(batch.rejected),
                       time.perf_counter() - t0, read_ends, datetime.now(UTC),
                       _read_and_counted_times(counted, set(batch.released)), phases,
                       {row[0] for rows in added.values() for row in rows} & reference.known,
                       held=len(held),
                       released_times=released.column("broker_timestamp").to_pylist(),
                       waiting=waiting)


def _read_and_counted_times(counted: pa.Table, released: set[tuple[str, str]]) -> list:
    """When the broker took in each event counted or rejected by the batch that read it
    (not the ``released`` ones, held before: what waiting cost them is reported apart)."""
    return [t for t, e, v in zip(counted.column("broker_timestamp").to_pylist(),
                                 counted.column("election_id").to_pylist(),
                                 counted.column("voter_id").to_pylist(), strict=True)
            if (e, v) not in released]


def warm_up(spark: SparkSession, url: str, bootstrap: str, topic: str,
            ends: Callable[[], dict[int, int]]) -> float:
    """Run a batch's plan once, writing nothing; returns seconds (0 when the session is
    warm already): the topic read from ``ends()`` (each partition's end: nothing to read,
    but the source and its lookup start) together with a few made-up events of a made-up
    election.

    On a Spark server that has not run it yet, the first batch takes several seconds more
    than the next ones (code generation, the Python workers): the first ballots of election
    night would be the latest counted. A session warms up once.
    """
    from datetime import UTC

    from jobs.vote_source import VOTE_ROW
    from tallyflow.votes.event import VoteEvent, credential_sha256

    if getattr(spark, "_tallyflow_warm", False):
        return 0.0
    t0 = time.perf_counter()
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    now = datetime.now(UTC)
    elections = reference_frame(spark, [("warm-up", "open", None, None, None)],
                                [("warm-up", "mayor", "ada", 1, "plurality", None, None)])
    rows = []
    for offset, (credential, choice) in enumerate([("a" * 32, "ada"), ("b" * 32, "nobody"),
                                                   ("a" * 32, "ada")]):
        event = VoteEvent.ballot("warm-up", credential, "north", {"mayor": [choice]})
        rows.append(("warm-up", 0, offset, now, event.key, event.to_json(), "warm-up",
                     credential_sha256(credential), f"voter-{credential[0]}", "north",
                     "18-24", "x", False, None, "open", None, None, now, None, None))
    raw = extract(spark, bootstrap, topic, ends(), 1, database_url=url).unionByName(
        spark.createDataFrame(rows, VOTE_ROW))
    events = parse_events(raw, keep=[f.name for f in LOOKUP_FIELDS])
    outcomes(classify(with_voters(events), elections), elections).toArrow()
    spark._tallyflow_warm = True
    return time.perf_counter() - t0


def _log_ends(bootstrap: str, topic: str, start_offsets: dict[int, int],
              watcher: TopicWatcher | None) -> dict[int, int]:
    """Each partition's end now (the offset after its last event)."""
    from tallyflow.kafka import partition_ends

    if watcher is not None:
        return watcher.ends(start_offsets)
    return partition_ends(bootstrap, topic, sorted(start_offsets))


def _read_ends(per_event: pa.Table, start_offsets: dict[int, int]) -> dict[int, int]:
    """Where the batch's read of each partition ended: its next offset."""
    read = {row["partition"]: row["offset_max"] + 1 for row in
            per_event.group_by("partition").aggregate([("offset", "max")]).to_pylist()}
    return {p: max(o, read.get(p, 0)) for p, o in start_offsets.items()}


def _ledger_batch(topic: str, start_offsets: dict[int, int], next_offsets: dict[int, int],
                  started: datetime, epochs: dict[int, int], per_event: pa.Table,
                  added: dict[str, list[tuple]], watcher: TopicWatcher | None,
                  received: pa.ChunkedArray) -> ledger.TallyBatch:
    """What the ledger commits for a batch: check-ins and ballots of the counted events,
    the rejected ones with their reason (the payload as ``secrecy.kept_payload`` keeps it),
    the aggregate increments and the new offsets. ``received``: when the broker took in
    each event read, for freshness."""
    import pyarrow.compute as pc

    counted = pc.is_null(per_event.column("reason"))
    accepted = per_event.filter(counted)
    rejected = per_event.filter(pc.invert(counted)).to_pylist()
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
        oldest_event_at=pc.min(received).as_py() if len(received) else None,
        newest_event_at=pc.max(received).as_py() if len(received) else None,
        consumer_lag=watcher.lag(next_offsets) if watcher is not None else None,
    )


def _in_groups(url: str, per_event: pa.Table, grouped: set[str], final: set[str],
               ballot_group: int) -> tuple[pa.Table, pa.Table, pa.Table]:
    """(counted now, left to wait, held before and counted now): a batch's outcomes with the
    ballots held for their regions added (``tallyflow.votes.held.pool``), split by
    ``tallyflow.votes.secrecy.ballots_to_count``. Rejected events and ballots of elections
    not ``grouped`` count at once; ``final`` elections have their last groups counted."""
    import numpy as np
    import pyarrow.compute as pc

    from tallyflow import db

    empty = per_event.schema.empty_table()
    valid = pc.fill_null(pc.is_null(per_event.column("reason")), False)
    in_groups = pc.and_(valid, pc.is_in(per_event.column("election_id"),
                                        pa.array(sorted(grouped), pa.string())))
    in_groups = pc.fill_null(in_groups, False)
    new = per_event.filter(in_groups)
    if not len(new) and not final:
        return per_event, empty, empty
    cells = zip(new.column("election_id").to_pylist(), new.column("region_id").to_pylist(),
                strict=True)
    with db.connection(url) as conn, conn.cursor() as cur:
        before = held_pool(cur, cells, final, per_event.schema)
    pool = pa.concat_tables([before, new]).combine_chunks()
    is_new = np.r_[np.zeros(len(before), bool), np.ones(len(new), bool)]
    cell = pc.binary_join_element_wise(pool.column("election_id"), pool.column("region_id"),
                                       "\x00").combine_chunks()
    groups = pc.dictionary_encode(cell).indices.to_numpy(zero_copy_only=False)
    # Earliest first: what was held before, then by when it came.
    order = np.empty(len(pool), np.int64)
    order[np.lexsort((pool.column("offset").to_numpy(),
                      pool.column("partition").to_numpy(),
                      pc.fill_null(pc.cast(pool.column("judged_at"), pa.int64()),
                                   0).to_numpy(),
                      is_new))] = np.arange(len(pool))
    is_final = pc.is_in(pool.column("election_id"),
                        pa.array(sorted(final), pa.string())).to_numpy(zero_copy_only=False)
    count = ballots_to_count(groups, order, is_final, ballot_group)
    counted = pa.concat_tables([per_event.filter(pc.invert(in_groups)),
                                pool.filter(pa.array(count))])
    return (counted, pool.filter(pa.array(~count & is_new)),
            pool.filter(pa.array(count & ~is_new)))


def _bytea(value: bytes | None) -> str | None:
    return None if value is None else "\\x" + value.hex()
