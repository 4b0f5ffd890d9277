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

from jobs.tally_batch import MAX_PER_PARTITION, BatchResult, run_batch

# Seconds between two runs of the outbox relay while the tally runs.
RELAY_INTERVAL = 2.0
# Seconds between two reads of ballots held back for their group while nothing new comes.
HOLD_RECHECK = 5.0


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

    from jobs.spark import session
    from tallyflow.settings import get_settings

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
                          settings.votes_topic, settings.votes_partition_ids,
                          seconds=args.seconds, stop_when_idle=args.drain,
                          quality_dir=settings.data_quality_dir,
                          ballot_group=settings.ballot_group)
    finally:
        spark.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
