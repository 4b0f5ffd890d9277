"""The tally: micro-batches back to back (``jobs.tally_batch.run_batch``), the outbox relay
between them, and ``python -m jobs.tally_votes`` to run it against the configured services.

Kafka vote events become checked ballots and aggregates in Postgres, exactly once: each
batch commits its outcomes and its offsets in one transaction.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING

from pyspark.sql import SparkSession

if TYPE_CHECKING:
    from tallyflow.kafka import TopicWatcher

from jobs.tally_batch import MAX_PER_PARTITION, BatchResult, run_batch, warm_up

# Seconds between two runs of the outbox relay while the tally runs.
RELAY_INTERVAL = 2.0


def run_micro_batches(spark: SparkSession, url: str, bootstrap: str, topic: str,
                      partitions: list[int], *, seconds: float, stop_when_idle: bool = False,
                      idle_pause: float = 0.2, quality_dir: Path | None = None,
                      max_per_partition: int = MAX_PER_PARTITION,
                      ballot_group: int = 1,
                      say=print) -> list[BatchResult]:
    """Run batches back to back for up to ``seconds`` (or until the topic is drained).

    Ballots waiting for their group (``run_batch``, ``held_ballots``) are counted when
    their region has enough, or when their election has closed and every ballot it can
    get is in: a batch runs for that even when no new event came.

    Holds the tally lock so no other tally runs beside it. After each batch the
    data-quality gate checks the aggregates of every election the batch moved (in memory);
    with ``quality_dir`` it also writes a Data Docs report whenever an election's verdict
    changes, and once more for each election at the end of the run.
    """
    from tallyflow import db
    from tallyflow.votes import ledger

    with db.connection(url, autocommit=True) as lock_conn:
        if not ledger.try_tally_lock(lock_conn):
            say("another tally is running; this one stops")
            return []
        loop = _Loop(spark, url, bootstrap, topic, partitions, quality_dir=quality_dir,
                     max_per_partition=max_per_partition, ballot_group=ballot_group,
                     say=say)
        try:
            warmed = warm_up(spark, url, bootstrap, topic,
                             lambda: loop.watcher.ends({p: 0 for p in loop.partitions}))
            if warmed:
                say(f"warmed the tally's plan up in {warmed:.2f} s, before the first batch")
            deadline = time.monotonic() + seconds
            while time.monotonic() < deadline:
                moved = loop.step()
                if moved:
                    continue
                if not stop_when_idle:
                    time.sleep(idle_pause)
                    continue
                idle = loop.idle()
                if idle == "done":
                    break
                if idle == "wait":
                    time.sleep(idle_pause)
            loop.finish()
        finally:
            loop.close()
    return loop.results


class _Loop:
    """One tally run's state between its batches: the broker's watcher, the outbox's
    publisher, how many ballots wait for their group, and what the quality gate has
    seen."""

    def __init__(self, spark: SparkSession, url: str, bootstrap: str, topic: str,
                 partitions: list[int], *, quality_dir: Path | None, max_per_partition: int,
                 ballot_group: int, say) -> None:
        from tallyflow.kafka import TopicWatcher
        from tallyflow.votes import outbox

        self.spark, self.url, self.bootstrap, self.topic = spark, url, bootstrap, topic
        self.partitions = partitions
        self.quality_dir, self.max_per_partition = quality_dir, max_per_partition
        self.ballot_group, self.say = ballot_group, say
        self.watcher = TopicWatcher(bootstrap, topic)
        self.publisher = outbox.Publisher(url, bootstrap, topic)
        self.relayed_at = 0.0
        self.waiting = 0  # ballots waiting for their group, as the last batch left them
        self.results: list[BatchResult] = []
        self.checked: set[str] = set()

    def step(self) -> bool:
        """Relay if due, then run a batch if there is something new to read; True when the
        run moved on (a batch counted events, or the log was re-based)."""
        from tallyflow.votes import held, ledger

        if time.monotonic() - self.relayed_at > RELAY_INTERVAL:
            relay(self.publisher, self.say)
            self.relayed_at = time.monotonic()
        # Partitions added to the topic are read from their first batch on.
        self.partitions = sorted(set(self.partitions) | set(self.watcher.partitions()))
        offsets = ledger.committed_offsets(self.url, self.topic, self.partitions)
        lows, ends = self.watcher.bounds(offsets)
        if rebased(self.url, self.topic, self.watcher, offsets, lows, ends, self.say):
            self.relayed_at = 0.0  # publish the forgotten ballots again right away
            return True
        if not any(ends[p] > offsets[p] for p in offsets) and not held.due(self.url):
            return False
        result = run_batch(self.spark, self.url, self.bootstrap, self.topic, self.partitions,
                           watcher=self.watcher, start_offsets=offsets,
                           max_per_partition=self.max_per_partition,
                           ballot_group=self.ballot_group)
        if not result.events and not result.released_times:
            return False
        self._counted(result)
        return True

    def _counted(self, result: BatchResult) -> None:
        self.results.append(result)
        steps = ", ".join(f"{k} {v:.2f}" for k, v in (result.phases or {}).items())
        released = len(result.released_times)
        groups = (f", {result.held:,} left to wait for their group and {released:,} of those "
                  f"waiting counted ({result.waiting:,} wait now)"
                  if result.held or released or result.waiting != self.waiting else "")
        self.waiting = result.waiting
        self.say(f"batch: {result.events:,} events, {result.accepted:,} counted, "
                 f"{result.rejected:,} rejected{groups} in {result.seconds:.2f} s "
                 f"({result.events / result.seconds:,.0f} events/s; {steps})")
        gate_started = time.perf_counter()
        for election_id in sorted(result.elections):
            self.gate(election_id, report=False)
        if result.phases is not None:
            result.phases["gate"] = round(time.perf_counter() - gate_started, 3)
        self.checked |= result.elections

    def idle(self) -> str:
        """For a drain with nothing new to read: ``again`` when the relay just published,
        ``wait`` while the outbox holds ballots the broker has not acknowledged, ``done``
        otherwise. What this run read past is settled first."""
        report = relay(self.publisher, self.say)
        if report.published:
            return "again"
        if report.waiting:  # the API's publish, or a broker slow to take it
            return "wait"
        return "done"

    def gate(self, election_id: str, report: bool) -> None:
        from tallyflow.votes.quality import check_aggregates

        verdict = check_aggregates(self.url, election_id, self.topic, self.quality_dir,
                                   report_only_on_change=not report)
        if verdict.status != "ok":
            self.say(f"{election_id}: results on quality hold: " + "; ".join(verdict.failures))
        elif verdict.changed and verdict.previous_status is not None:
            self.say(f"{election_id}: quality hold lifted, every check passes again")

    def finish(self) -> None:
        """A report for each election the run moved, when reports are written."""
        if self.quality_dir is not None:
            for election_id in sorted(self.checked):
                self.gate(election_id, report=True)

    def close(self) -> None:
        self.watcher.close()
        self.publisher.close()


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

    from jobs.spark import session
    from tallyflow.resources import Resources
    from tallyflow.settings import get_settings

    parser = argparse.ArgumentParser(description="Tally vote events into Postgres.")
    parser.add_argument("--seconds", type=float, default=290.0,
                        help="how long to keep running batches")
    parser.add_argument("--drain", action="store_true",
                        help="stop as soon as a batch finds nothing new")
    args = parser.parse_args(argv)
    resources = Resources.from_settings(get_settings())
    votes = resources.votes
    spark = session(resources.spark_remote)
    try:
        run_micro_batches(spark, resources.database_url, votes.bootstrap, votes.name,
                          list(votes.partition_ids), seconds=args.seconds,
                          stop_when_idle=args.drain, quality_dir=resources.data_quality_dir,
                          ballot_group=resources.ballot_group)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
