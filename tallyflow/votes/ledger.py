"""The vote ledger in Postgres: what a tally batch reads and the one transaction it commits.

A batch commits its check-ins, ballots, rejected events, aggregate increments and new
consumer offsets together, or nothing. Offsets move only from where the batch started
(compare-and-set), so two batches can never both count the same events, and a batch that
dies before its commit leaves the next one to read the same events again.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
from psycopg2.extras import Json, execute_values

from tallyflow import db
from tallyflow.votes.offsets import Offsets
from tallyflow.votes.runoffs import refresh_rounds

# Session-level advisory lock held by the one tally running at a time.
TALLY_LOCK_ID = 7_318_025


class StaleOffsets(RuntimeError):
    """Another batch committed these partitions first; this batch must not commit."""


@dataclass
class TallyBatch:
    """What one micro-batch commits.

    ``checkins`` (election_id, voter_id, region_id, judged_at, receipt) and ``ballots``
    (election_id, region_id, party_id, vote_method, selections as JSON text) are Arrow
    tables, written with COPY without passing through Python rows.
    """

    topic: str
    start_offsets: dict[int, int]
    next_offsets: dict[int, int]
    started_at: datetime
    # The log epoch of each partition's offsets (``LogChange``); 0 until a log is replaced.
    epochs: dict[int, int] = field(default_factory=dict)
    checkins: pa.Table | None = None
    ballots: pa.Table | None = None
    rejected: list[tuple] = field(default_factory=list)
    increments: dict[str, list[tuple]] = field(default_factory=dict)
    # (topic, partition, election_id, counted events): certification's per-partition check
    partition_accepted: list[tuple] = field(default_factory=list)
    oldest_event_at: datetime | None = None
    newest_event_at: datetime | None = None
    consumer_lag: int | None = None
    # Ballots left to wait for their group (``insert_held_ballots`` rows), and the
    # (election_id, voter_id) of held ones this batch counts (``tallyflow.votes.held``).
    held: list[tuple] = field(default_factory=list)
    released: list[tuple[str, str]] = field(default_factory=list)

    @property
    def events(self) -> int:
        return sum(self.next_offsets[p] - self.start_offsets[p] for p in self.next_offsets)

    @property
    def accepted(self) -> int:
        return 0 if self.checkins is None else len(self.checkins)


def committed_offsets(url: str, topic: str, partitions: Iterable[int]) -> Offsets:
    """The next offset to read per partition; partitions seen for the first time start at 0."""
    with db.connection(url) as conn, conn.cursor() as cur:
        execute_values(cur, db.query("init_consumer_offsets"),
                       [(topic, p, 0) for p in partitions])
        cur.execute(db.query("committed_offsets"), {"topic": topic})
        return Offsets(cur.fetchall())


def committed_epochs(url: str, topic: str) -> dict[int, tuple[int, str | None]]:
    """Per partition: the log epoch of its committed offset and the topic id of that epoch."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("committed_epochs"), {"topic": topic})
        return {partition: (epoch, topic_id) for partition, epoch, topic_id in cur.fetchall()}


@dataclass(frozen=True)
class LogChange:
    """A partition whose log is not the one its committed offset was read from."""

    partition: int
    log_epoch: int
    old_next_offset: int
    new_start: int
    new_end: int
    reason: str


def log_changes(offsets: dict[int, int], epochs: dict[int, tuple[int, str | None]],
                topic_id: str | None, lows: dict[int, int],
                ends: dict[int, int]) -> list[LogChange]:
    """The partitions to re-base: the topic was created again (its id changed), the log ends
    before the committed offset (a broker lost it), or its first event is past the committed
    offset (events removed unread, e.g. by retention). Each new epoch starts at the log's
    first offset."""
    changes = []
    for partition, next_offset in sorted(offsets.items()):
        epoch, known_id = epochs.get(partition, (0, None))
        low, end = lows[partition], ends[partition]
        if known_id is not None and topic_id is not None and known_id != topic_id:
            reason = f"the topic was created again (id {known_id} is now {topic_id})"
        elif end < next_offset:
            reason = f"the log ends at offset {end}, before the committed offset {next_offset}"
        elif low > next_offset:
            reason = (f"offsets {next_offset} to {low - 1} were removed before they were "
                      f"read")
        else:
            continue
        changes.append(LogChange(partition, epoch, next_offset, low, end, reason))
    return changes


def rebase(url: str, topic: str, changes: list[LogChange], topic_id: str | None) -> None:
    """Start a new epoch for each changed partition, record why, and have the outbox relay
    publish again every receipted ballot not yet counted, in one transaction."""
    with db.connection(url) as conn, conn.cursor() as cur:
        for change in changes:
            cur.execute(db.query("rebase_consumer_offset"), {
                "topic": topic, "partition": change.partition, "log_epoch": change.log_epoch,
                "new_start": change.new_start, "topic_id": topic_id})
            if cur.fetchone() is None:
                raise StaleOffsets(f"{topic}[{change.partition}] moved to another epoch "
                                   "while this tally re-based it")
            cur.execute(db.query("record_log_reset"), {
                "topic": topic, "partition": change.partition, "log_epoch": change.log_epoch,
                "old_next_offset": change.old_next_offset, "new_end": change.new_end,
                "reason": change.reason})
        cur.execute(db.query("forget_publications"), {"topic": topic})


def adopt_topic_id(url: str, topic: str, topic_id: str) -> None:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("adopt_topic_id"), {"topic": topic, "topic_id": topic_id})


def log_reset_summary(url: str, topic: str) -> dict:
    """How many times the tally re-based onto a replaced log, and the latest."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("latest_log_resets"), {"topic": topic})
        count, at, reason = cur.fetchone()
    return {"log_resets": count, "last_log_reset_at": at.isoformat() if at else None,
            "last_log_reset_reason": reason}


def _copy(cur, query_name: str, rows: Sequence[Sequence] | pa.Table | None) -> None:
    if rows is None or not len(rows):
        return
    if isinstance(rows, pa.Table):
        buffer = io.BytesIO()
        pa_csv.write_csv(rows, buffer, pa_csv.WriteOptions(include_header=False))
    else:
        buffer = io.StringIO()
        csv.writer(buffer).writerows(rows)
    buffer.seek(0)
    cur.copy_expert(db.query(query_name), buffer)


def _shuffled(table: pa.Table | None) -> pa.Table | None:
    """The rows in a random order, from the system's randomness."""
    if table is None or not len(table):
        return table
    rng = np.random.default_rng(secrets.randbits(128))
    return table.take(pa.array(rng.permutation(len(table))))


INCREMENT_QUERIES = {
    "option": "add_option_totals",
    "option_region": "add_option_region_totals",
    "option_method": "add_option_method_totals",
    "option_vote_method": "add_option_vote_method_totals",
    "contest_method": "add_contest_method_totals",
    "region_method": "add_turnout_by_method",
    "contest": "add_contest_ballot_totals",
    "region": "add_turnout_by_region",
    "demographic": "add_turnout_by_demographic",
    "minute": "add_ballots_per_minute",
    "rejected_total": "add_rejected_totals",
    "ranking": "add_ranking_totals",
    "ranking_contest": "add_ranking_contest_totals",
}


def commit_batch(url: str, batch: TallyBatch, *, duration_ms: int) -> int:
    """Write the whole batch and advance the offsets in one transaction; returns how many
    ballots wait for their group afterwards, over every election."""
    with db.connection(url) as conn, conn.cursor() as cur:
        for partition, next_offset in sorted(batch.next_offsets.items()):
            cur.execute(
                db.query("advance_consumer_offset"),
                {"topic": batch.topic, "partition": partition, "next_offset": next_offset,
                 "start_offset": batch.start_offsets[partition],
                 "log_epoch": batch.epochs.get(partition, 0)},
            )
            if cur.fetchone() is None:
                raise StaleOffsets(
                    f"{batch.topic}[{partition}] moved on from offset "
                    f"{batch.start_offsets[partition]} while this batch ran"
                )
        _copy(cur, "copy_checkins", batch.checkins)
        # Random ids (gen_random_uuid) in a random order: neither tells cast order.
        _copy(cur, "copy_ballots", _shuffled(batch.ballots))
        _copy(cur, "copy_rejected_events", batch.rejected)
        waiting = _hold(cur, batch)
        if batch.partition_accepted:
            execute_values(cur, db.query("add_partition_accepted_totals"),
                           batch.partition_accepted, page_size=1000)
        for kind, rows in batch.increments.items():
            if rows:
                execute_values(cur, db.query(INCREMENT_QUERIES[kind]), rows, page_size=1000)
        # A ranked contest's rounds are re-run in the batch that changed its rankings.
        refresh_rounds(cur, ((election_id, contest_id) for election_id, contest_id, *_
                             in batch.increments.get("ranking_contest", [])))
        cur.execute(
            db.query("record_tally_batch"),
            {
                "topic": batch.topic,
                "started_at": batch.started_at,
                "events": batch.events,
                "accepted": batch.accepted,
                "rejected": len(batch.rejected),
                "duration_ms": duration_ms,
                "offsets": Json(Offsets(batch.next_offsets).to_json()),
                "newest_event_at": batch.newest_event_at,
                "oldest_event_at": batch.oldest_event_at,
                "consumer_lag": batch.consumer_lag,
            },
        )
    return waiting


def _hold(cur, batch: TallyBatch) -> int:
    """Keep the ballots left to wait, drop the held ones counted now, and count what waits
    per election; returns the ballots waiting over every election."""
    if batch.released:
        cur.execute(db.query("delete_held_ballots"), {
            "election_ids": [e for e, _v in batch.released],
            "voter_ids": [v for _e, v in batch.released]})
    if batch.held:
        execute_values(cur, db.query("insert_held_ballots"), batch.held, page_size=1000)
    touched = sorted({row[4] for row in batch.held} | {e for e, _v in batch.released})
    if touched:
        cur.execute(db.query("count_ballots_waiting"), {"election_ids": touched})
    cur.execute(db.query("held_ballots_waiting"))
    return cur.fetchone()[0]


def try_tally_lock(conn) -> bool:
    """Take the tally's session lock on ``conn``; False when another tally holds it."""
    with conn.cursor() as cur:
        cur.execute(db.query("try_tally_lock"), {"lock_id": TALLY_LOCK_ID})
        return cur.fetchone()[0]


def pipeline_health(url: str, topic: str) -> dict | None:
    """The tally's latest batch on ``topic`` (None before the first)."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute(db.query("pipeline_health"), {"topic": topic})
        row = cur.fetchone()
        columns = [c.name for c in cur.description]
    if row is None:
        return None
    health = dict(zip(columns, row, strict=True))
    health["last_batch_at"] = health["last_batch_at"].isoformat()
    return health


def untallied(url: str, bootstrap: str, topic: str) -> int:
    """Events in the broker past the tally's committed offsets, over every partition the
    broker reports for ``topic`` (exact: each partition is read to its end)."""
    from tallyflow.kafka import TopicWatcher, topic_partitions

    partitions = list(range(topic_partitions(bootstrap).get(topic, 0)))
    if not partitions:
        return 0
    offsets = committed_offsets(url, topic, partitions)
    watcher = TopicWatcher(bootstrap, topic)
    try:
        ends = watcher.ends(offsets)
    finally:
        watcher.close()
    return sum(max(0, ends[p] - offsets[p]) for p in partitions)
