"""Pipeline benchmark: events in the broker -> committed aggregates, on the embedded stack.

Run: .venv/bin/python bench/pipeline.py [--events 400000] [--steady-seconds 60]
Starts its own PostgreSQL, broker and Spark Connect server on free ports.

Prints:
- raw read rate of a plain confluent-kafka consumer (assign + read to the end);
- sustained tally throughput for a backlog of --events ballots (target >= 50,000/s) and
  the ratio throughput / raw read rate;
- freshness at a steady 2,000 ballots/s: broker receive time -> committed in the
  aggregates, p50 and p95 (target p95 <= 3 s);
- peak memory of the Spark server and of the driver.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import multiprocessing
import resource
import statistics
import tempfile
import threading
import time
from pathlib import Path

import psutil
from confluent_kafka import Consumer, Producer, TopicPartition

from jobs.spark import session
from jobs.tally_votes import run_micro_batches
from tallyctl.stack import Stack
from tallyctl.stack.process import free_port_env
from tallyflow.elections import lifecycle, store
from tallyflow.elections.definition import load_definition
from tallyflow.registrations.quality import validate_registrations
from tallyflow.registrations.roll import seed_registrations
from tallyflow.settings import Settings
from tallyflow.votes.event import VoteEvent
from tallyflow.votes.secrecy import DEFAULT_BALLOT_GROUP

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "elections" / "three-parties.json"
CANDIDATES = ["ada-okafor", "bruno-lind", "chen-wei"]
# Each produce batch costs the embedded broker something at every fetch (see
# tallyflow.votes.simulator.LINGER_MS): 50 ms keeps a minute at 2,000/s to a few thousand.
LINGER_MS = 50


def produce(bootstrap: str, topic: str, ballots: list[tuple[bytes, bytes]], rate: float | None,
            stop: threading.Event | None = None) -> float:
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": LINGER_MS, "batch.num.messages": 10_000})
    t0 = time.perf_counter()
    for i, (key, value) in enumerate(ballots):
        if stop is not None and stop.is_set():
            break
        if rate:
            ahead = i / rate - (time.perf_counter() - t0)
            if ahead > 0:
                time.sleep(ahead)
        while True:
            try:
                producer.produce(topic, value, key=key)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)
    return time.perf_counter() - t0


def raw_read_rate(bootstrap: str, topic: str, partitions: int) -> tuple[int, float]:
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bench-raw",
                         "enable.partition.eof": True, "enable.auto.commit": False,
                         "fetch.max.bytes": 52_428_800, "log_level": 3})
    consumer.assign([TopicPartition(topic, p, 0) for p in range(partitions)])
    seen, done, t0 = 0, set(), time.perf_counter()
    while len(done) < partitions:
        for message in consumer.consume(10_000, timeout=0.05):
            if message.error():
                done.add(message.partition())
            else:
                seen += 1
    seconds = time.perf_counter() - t0
    consumer.close()
    return seen, seconds


@contextlib.contextmanager
def embedded_stack(kafka_storage: str = "memory"):
    """PostgreSQL, the broker (``kafka_storage``: durable or memory) and a Spark Connect
    server (2 GB driver) on free ports, in a temporary home: (settings, the Spark server's
    process). Everything stops on exit."""
    with tempfile.TemporaryDirectory(prefix="tallyflow-bench-") as home:
        settings = Settings.from_env({**free_port_env(Path(home)),
                                      "TALLYFLOW_SPARK_DRIVER_MEMORY": "2g",
                                      "TALLYFLOW_KAFKA_STORAGE": kafka_storage})
        stack = Stack(settings, say=lambda message: None)
        try:
            spark_proc = stack.launch_spark()
            stack.prepare_database(stack.launch_postgres())
            stack.prepare_broker(stack.launch_kafka())
            stack.await_spark(spark_proc)
            yield settings, spark_proc
        finally:
            stack.stop()


class PeakMemory:
    """Samples a process tree's resident memory twice a second until stopped."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while not self._stop.is_set():
            rss = 0
            for process in [self.root, *self.root.children(True)]:
                with contextlib.suppress(psutil.NoSuchProcess):  # a worker that ended
                    rss += process.memory_info().rss
            self.peak = max(self.peak, rss)
            time.sleep(0.5)

    def stop(self) -> None:
        self._stop.set()


def peak_rss_line(spark: PeakMemory) -> str:
    return (f"  peak RSS: Spark server {spark.peak / 2**20:,.0f} MiB, driver "
            f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:,.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--steady-seconds", type=float, default=60.0)
    parser.add_argument("--steady-rate", type=float, default=2_000.0)
    parser.add_argument("--ballot-group", type=int, default=DEFAULT_BALLOT_GROUP,
                        help="k, ballots of a precinct counted together (the platform's "
                             "default; 1 counts each at once)")
    parser.add_argument("--kafka-storage", choices=["memory", "durable"], default="memory",
                        help="the embedded broker's log: in memory (the default) or on disk")
    args = parser.parse_args()

    with embedded_stack(args.kafka_storage) as (settings, spark_proc):
        url, bootstrap = settings.database_url, settings.kafka_bootstrap
        partitions = settings.votes_partition_ids
        voters = args.events + int(args.steady_seconds * args.steady_rate) + 20
        election = load_definition(EXAMPLE, opens_at="now", closes_at="+6h")
        store.create_election(url, election)
        issued: list[tuple[str, str]] = []
        print(f"registering {voters:,} voters...", flush=True)
        seed_registrations(url, election.election_id, voters, seed=1,
                           credentials_sink=issued.extend)
        validate_registrations(url, election.election_id, settings.data_quality_dir)
        lifecycle.schedule_election(url, election.election_id)
        lifecycle.open_election(url, election.election_id)
        ballots = []
        for i, (_voter, credential) in enumerate(issued):
            event = VoteEvent.ballot(election.election_id, credential, "north-1",
                                     {"president": [CANDIDATES[i % 3]]})
            ballots.append((event.key, event.to_json()))
        warm_ups, ballots = ballots[:10], ballots[10:]
        backlog, steady = ballots[: args.events], ballots[args.events:]

        # Warm up as the running platform is: one small batch before the clock starts.
        spark = session(settings.spark_remote)
        produce(bootstrap, settings.votes_topic, warm_ups, None)
        run_micro_batches(spark, url, bootstrap, settings.votes_topic, partitions,
                          seconds=120, stop_when_idle=True, ballot_group=args.ballot_group,
                          say=lambda m: None)

        seconds = produce(bootstrap, settings.votes_topic, backlog, None)
        print(f"produced {len(backlog):,} events in {seconds:.1f} s", flush=True)
        raw, raw_seconds = raw_read_rate(bootstrap, settings.votes_topic, len(partitions))
        raw_rate = raw / raw_seconds

        # The tally's process holds no events where it runs for real (an Airflow task), but
        # this one holds every ballot it produces: keep those out of Python's cyclic
        # garbage collection, or each collection walks them all in the middle of a batch.
        gc.freeze()
        memory = PeakMemory(spark_proc.pid)
        t0 = time.perf_counter()
        results = run_micro_batches(spark, url, bootstrap, settings.votes_topic, partitions,
                                    seconds=3600, stop_when_idle=True,
                                    ballot_group=args.ballot_group, say=print)
        drain = time.perf_counter() - t0
        counted = sum(r.accepted for r in results)

        # Ballots come from another process, as from the casting API or the simulator.
        spawn = multiprocessing.get_context("spawn")
        stop = spawn.Event()
        producer = spawn.Process(
            target=produce,
            args=(bootstrap, settings.votes_topic, steady, args.steady_rate, stop))
        producer.start()
        steady_results = run_micro_batches(
            spark, url, bootstrap, settings.votes_topic, partitions,
            seconds=args.steady_seconds, ballot_group=args.ballot_group, say=lambda m: None)
        stop.set()
        producer.join()
        memory.stop()
        latencies = sorted(
            (r.committed_at - t).total_seconds()
            for r in steady_results for t in (r.broker_times or []) if t is not None
        )
        spark.stop()

    print(f"\npipeline benchmark ({len(partitions)} partitions, {args.kafka_storage} broker log, "
          f"k = {args.ballot_group})")
    print(f"  raw read, plain consumer     {raw - len(warm_ups):,} events in {raw_seconds:.2f} s = "
          f"{raw_rate:,.0f} events/s")
    print(f"  tally of a {len(backlog):,}-event backlog   {counted:,} counted in {drain:.1f} s = "
          f"{len(backlog) / drain:,.0f} events/s (target >= 50,000), "
          f"{len(results)} batch(es)")
    print(f"  throughput / raw read rate   {len(backlog) / drain / raw_rate:.2f}")
    if latencies:
        p50 = statistics.median(latencies)
        p95 = latencies[int(0.95 * (len(latencies) - 1))]
        print(f"  freshness at {args.steady_rate:,.0f}/s        p50 {p50:.2f} s, p95 {p95:.2f} s "
              f"(target p95 <= 3 s) over {len(latencies):,} events, "
              f"{len(steady_results)} batches")
        phases = {k: statistics.mean((r.phases or {}).get(k, 0) for r in steady_results)
                  for k in (steady_results[0].phases or {})}
        print(f"  steady batches: mean {statistics.mean(r.events for r in steady_results):,.0f} "
              f"events in {statistics.mean(r.seconds for r in steady_results):.2f} s, one every "
              f"{args.steady_seconds / len(steady_results):.2f} s; mean seconds per step: "
              + ", ".join(f"{k} {v:.2f}" for k, v in phases.items()))
    print(peak_rss_line(memory))


if __name__ == "__main__":
    main()
