"""Live-count benchmark: an election of many precincts of uneven size, counted while it votes.

Run: .venv/bin/python bench/live_count.py [--precincts 300] [--ballot-group 5]
     [--long-seconds 600] [--long-rate 400] [--burst-seconds 60] [--burst-rate 2000]
Starts its own PostgreSQL, broker and Spark Connect server on free ports (a cold Spark
server, as after `tallyflow up`).

The election has ``--precincts`` precincts of log-normal size (a few voters to thousands).
Every voter casts once, in random order; about 3 % of the events are bad (unknown
credential, unknown option, malformed); a direct Kafka producer sends at the flow's rate
and the casting API (``Caster``, in a process of its own) takes a trickle of 20 ballots/s
beside it. Two flows: a long one (``--long-rate`` for ``--long-seconds``) and a burst.

Prints, per flow:
- the lag from produce to published count of the ballots and rejects counted by the batch
  that read them (p50/p95/max; target p95 <= 3 s at 2,000/s), and beside it what waiting
  for a group cost the ballots that waited (p50/p95/max);
- the ballots still waiting 30 s after the flow ends, in all and in the fullest precinct
  (target <= 2k - 1 per precinct), and the ballots neither counted nor waiting (must be 0);
- each batch's read size: events read in all against events sent (each event read once),
  and the mean per batch in the flow's first and last minute (it must stay flat);
- the warm-up and the first batch after it.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from pipeline import embedded_stack

from jobs.spark import session
from jobs.tally_votes import run_micro_batches
from tallyflow import db
from tallyflow.elections import lifecycle, store
from tallyflow.elections.definition import load_definition
from tallyflow.registrations.quality import validate_registrations
from tallyflow.registrations.roll import seed_registrations
from tallyflow.votes.event import VoteEvent

EXAMPLE = (Path(__file__).resolve().parent.parent / "examples" / "elections"
           / "general-election.json")
MAYORS = ["dana-moss", "eli-brandt", "farah-nasser", "gus-lindqvist"]
API_RATE = 20.0
BAD_SHARE = 0.03
# As bench/pipeline.py: each produce batch costs the embedded broker at every fetch.
LINGER_MS = 50
SLEEP_AT_LEAST = 0.01


def precincts_definition(home: Path, precincts: int, seed: int) -> Path:
    """The general election's contests over a county of 10 districts and ``precincts``
    precincts of log-normal population (median 400, sigma 1.3: a handful to thousands)."""
    rng = random.Random(seed)
    definition = json.loads(EXAMPLE.read_text())
    definition["regions"] = [{"id": "county", "name": "County", "level": "county"}] + [
        {"id": f"d{d}", "name": f"District {d}", "level": "district", "parent": "county"}
        for d in range(10)] + [
        {"id": f"p{p:04d}", "name": f"Precinct {p}", "level": "precinct",
         "parent": f"d{p % 10}", "population": max(1, round(rng.lognormvariate(6.0, 1.3)))}
        for p in range(precincts)]
    path = home / "precincts.json"
    path.write_text(json.dumps(definition))
    return path


def _events(election_id: str, voters: list[tuple[str, str, str]], seed: int) -> list[bytes]:
    """One ballot per voter in random order, with about BAD_SHARE bad events mixed in."""
    rng = random.Random(seed)
    events = []
    for i, (_voter, credential, region) in enumerate(voters):
        events.append(VoteEvent.ballot(election_id, credential, region,
                                       {"mayor": [MAYORS[i % 4]]}).to_json())
        if rng.random() < BAD_SHARE:
            kind = rng.randrange(3)
            if kind == 0:
                bad = VoteEvent.ballot(election_id, f"{rng.getrandbits(128):032x}", region,
                                       {"mayor": ["dana-moss"]}).to_json()
            elif kind == 1:
                bad = VoteEvent.ballot(election_id, credential, region,
                                       {"mayor": ["nobody"]}).to_json()
            else:
                bad = b'{"not": "a ballot"'
            events.append(bad)
    return events


def produce(bootstrap: str, topic: str, events: list[bytes], rate: float) -> None:
    """Send ``events`` at ``rate`` per second (a process of its own)."""
    from confluent_kafka import Producer

    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": LINGER_MS, "log_level": 3})
    t0 = time.perf_counter()
    for i, value in enumerate(events):
        ahead = i / rate - (time.perf_counter() - t0)
        if ahead > SLEEP_AT_LEAST:  # sleeping per event would cost the tally a core
            time.sleep(ahead)
        while True:
            try:
                producer.produce(topic, value)
                break
            except BufferError:
                producer.poll(0.05)
        producer.poll(0)
    producer.flush(60)


def cast_through_the_api(url: str, bootstrap: str, topic: str, election_id: str,
                         voters: list[tuple[str, str, str]], rate: float) -> None:
    """The casting API's own path (``Caster``: outbox, receipt, publish) at ``rate``."""
    from tallyflow.votes.casting import Caster

    caster = Caster(url, bootstrap, topic)
    t0 = time.perf_counter()
    try:
        for i, (_voter, credential, region) in enumerate(voters):
            ahead = i / rate - (time.perf_counter() - t0)
            if ahead > 0:
                time.sleep(ahead)
            answer = caster.cast(election_id, {"credential": credential, "region_id": region,
                                               "contests": [{"contest_id": "mayor",
                                                             "selections": ["eli-brandt"]}]})
            if answer.status != 202:
                print(f"API answered {answer.status}: {answer.body}", flush=True)
    finally:
        caster.close()


def _percentiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p95 = ordered[int(0.95 * (len(ordered) - 1))]
    return (f"p50 {statistics.median(ordered):.2f} s, p95 {p95:.2f} s, "
            f"max {ordered[-1]:.2f} s over {len(ordered):,}")


def _state(url: str, election_id: str) -> tuple[int, Counter]:
    """(ballots counted, ballots waiting per precinct)."""
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from checkins where election_id = %s", (election_id,))
        (counted,) = cur.fetchone()
        cur.execute("select region_id, count(*) from held_ballots where election_id = %s "
                    "group by region_id", (election_id,))
        waiting = Counter(dict(cur.fetchall()))
    return counted, waiting


def run_flow(name: str, spark, settings, election_id: str, direct: list[tuple],
             api: list[tuple], rate: float, seconds: float, k: int, seed: int,
             cast_before: int, say=lambda _m: None) -> dict:
    """One flow, tallied while it runs and for 30 s after; ``cast_before``: the valid
    ballots cast before it."""
    url, bootstrap, topic = (settings.database_url, settings.kafka_bootstrap,
                             settings.votes_topic)
    events = _events(election_id, direct, seed)
    spawn = multiprocessing.get_context("spawn")
    producers = [
        spawn.Process(target=produce, args=(bootstrap, topic, events, rate)),
        spawn.Process(target=cast_through_the_api,
                      args=(url, bootstrap, topic, election_id, api, API_RATE)),
    ]
    print(f"{name}: {len(events):,} events at {rate:,.0f}/s and {len(api):,} through the "
          f"API at {API_RATE:.0f}/s", flush=True)
    t0 = time.time()
    for process in producers:
        process.start()
    # The flow, then 30 s more.
    results = run_micro_batches(spark, url, bootstrap, topic, settings.votes_partition_ids,
                                seconds=seconds + 30, ballot_group=k, say=say)
    for process in producers:
        process.join()
    ended = t0 + seconds
    counted, waiting = _state(url, election_id)
    valid = cast_before + len(direct) + len(api)
    lags = [(r.committed_at - t).total_seconds() for r in results
            for t in (r.broker_times or []) if t is not None]
    waits = [(r.committed_at - t).total_seconds() for r in results
             for t in r.released_times if t is not None]
    per_batch = [(r.committed_at.timestamp(), r.events) for r in results]
    first = [n for at, n in per_batch if at < t0 + 60]
    last = [n for at, n in per_batch if ended - 60 <= at < ended]
    gates = [(r.phases or {}).get("gate", 0.0) for r in results]
    batch_seconds = [r.seconds for r in results]
    read = sum(r.events for r in results)
    sent = len(events) + len(api)
    return {
        "name": name, "rate": rate, "flow_seconds": ended - t0, "lags": lags, "waits": waits,
        "waiting_total": sum(waiting.values()), "waiting_max": max(waiting.values(), default=0),
        "precincts_waiting": len(waiting), "uncounted": valid - counted - sum(waiting.values()),
        "read": read, "sent": sent, "batches": len(results),
        "first_minute": statistics.mean(first) if first else 0,
        "last_minute": statistics.mean(last) if last else 0,
        "largest_read": max((n for _a, n in per_batch), default=0),
        "batch_seconds": statistics.mean(batch_seconds) if batch_seconds else 0,
        "gate_seconds": statistics.mean(gates) if gates else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--precincts", type=int, default=300)
    parser.add_argument("--ballot-group", type=int, default=5)
    parser.add_argument("--long-seconds", type=float, default=600.0)
    parser.add_argument("--long-rate", type=float, default=400.0)
    parser.add_argument("--burst-seconds", type=float, default=60.0)
    parser.add_argument("--burst-rate", type=float, default=2_000.0)
    parser.add_argument("--verbose", action="store_true", help="print every batch")
    args = parser.parse_args()
    k = args.ballot_group
    flows = [("long", args.long_rate, args.long_seconds),
             ("burst", args.burst_rate, args.burst_seconds)]
    direct_needed = [round(rate * seconds / (1 + BAD_SHARE)) for _n, rate, seconds in flows]
    api_needed = [round(API_RATE * seconds) for _n, _r, seconds in flows]
    warm_ups = 50
    voters = sum(direct_needed) + sum(api_needed) + warm_ups

    with embedded_stack() as (settings, _spark_proc), \
            tempfile.TemporaryDirectory(prefix="tallyflow-live-") as home:
        url = settings.database_url
        election = load_definition(precincts_definition(Path(home), args.precincts, 1),
                                   opens_at="now", closes_at="+6h")
        store.create_election(url, election)
        issued: list[tuple[str, str]] = []
        print(f"registering {voters:,} voters in {args.precincts} precincts...", flush=True)
        seed_registrations(url, election.election_id, voters, seed=1,
                           credentials_sink=issued.extend)
        validate_registrations(url, election.election_id, settings.data_quality_dir)
        lifecycle.schedule_election(url, election.election_id)
        lifecycle.open_election(url, election.election_id)
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute("select voter_id, region_id from voters where election_id = %s",
                        (election.election_id,))
            regions = dict(cur.fetchall())
            cur.execute("select region_id, count(*) from voters where election_id = %s "
                        "group by region_id", (election.election_id,))
            sizes = sorted(n for _r, n in cur.fetchall())
        print(f"precinct sizes: min {sizes[0]}, median {statistics.median(sizes):.0f}, "
              f"max {sizes[-1]}; {sum(n < 30 for n in sizes)} under 30 voters", flush=True)
        everyone = [(v, c, regions[v]) for v, c in issued]
        random.Random(2).shuffle(everyone)

        spark = session(settings.spark_remote)
        warm = everyone[:warm_ups]
        produce(settings.kafka_bootstrap, settings.votes_topic,
                _events(election.election_id, warm, 0), 1_000)
        t0 = time.perf_counter()
        first = run_micro_batches(spark, url, settings.kafka_bootstrap, settings.votes_topic,
                                  settings.votes_partition_ids, seconds=30,
                                  stop_when_idle=True, ballot_group=k, say=print)
        print(f"first tally run on the cold server: {time.perf_counter() - t0:.2f} s "
              f"({len(first)} batch(es))", flush=True)

        reports, start = [], warm_ups
        for (name, rate, seconds), n_direct, n_api in zip(flows, direct_needed, api_needed,
                                                          strict=True):
            direct, api = everyone[start:start + n_direct], \
                everyone[start + n_direct:start + n_direct + n_api]
            start += n_direct + n_api
            reports.append(run_flow(name, spark, settings, election.election_id, direct, api,
                                    rate, seconds, k, seed=len(reports) + 3,
                                    cast_before=start - n_direct - n_api,
                                    say=print if args.verbose else lambda _m: None))
        spark.stop()

    print(f"\nlive-count benchmark: {args.precincts} precincts (sizes {sizes[0]} to "
          f"{sizes[-1]}, median {statistics.median(sizes):.0f}), k = {k}, "
          f"{len(settings.votes_partition_ids)} partitions")
    for r in reports:
        print(f"  {r['name']} flow, {r['rate']:,.0f}/s for {r['flow_seconds']:.0f} s")
        print(f"    lag, counted by the batch that read them  {_percentiles(r['lags'])}")
        print(f"    waited for their group, then counted       {_percentiles(r['waits'])}")
        print(f"    30 s after the flow: {r['waiting_total']:,} ballots waiting in "
              f"{r['precincts_waiting']} precincts, at most {r['waiting_max']} in one "
              f"(2k - 1 = {2 * k - 1}); {r['uncounted']:,} neither counted nor waiting")
        print(f"    read {r['read']:,} events for {r['sent']:,} sent, in {r['batches']} batches;"
              f" mean per batch {r['first_minute']:,.0f} in the first minute, "
              f"{r['last_minute']:,.0f} in the last; largest {r['largest_read']:,}")
        print(f"    each batch {r['batch_seconds']:.2f} s on average, then the quality gate "
              f"{r['gate_seconds']:.2f} s")


if __name__ == "__main__":
    main()
