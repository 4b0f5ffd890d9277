"""Certification benchmark: close -> certificate for an election with 1,000,000 counted ballots.

Run: .venv/bin/python bench/certify.py [--ballots 1000000]
Starts its own PostgreSQL, broker and Spark Connect server on free ports, registers the
voters, casts one ballot each (three contests: mayor, a two-seat council, an approval
poll) and tallies them, then times certification from close to certificate.

Prints the time of each step (close, drain, recount, reconcile, tabulate, certify), the
total against the target (<= 60 s), and peak memory of the Spark server and the driver.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

from jobs.certify_election import Services, certify_election
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
COUNCIL = ["hana-ito", "ivan-petrov", "june-abara", "kofi-mensah", "lena-vogel"]
PARKS = ["playground", "bike-paths", "lake-cleanup", "dog-park"]


def main() -> None:
    from pipeline import PeakMemory, embedded_stack, peak_rss_line, produce  # beside this file

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ballots", type=int, default=1_000_000)
    args = parser.parse_args()

    with embedded_stack() as (settings, spark_proc):
        url, bootstrap = settings.database_url, settings.kafka_bootstrap
        topic, partitions = settings.votes_topic, settings.votes_partition_ids
        election = load_definition(EXAMPLE, opens_at="now", closes_at="+6h")
        eid = election.election_id
        store.create_election(url, election)
        issued: list[tuple[str, str]] = []
        t0 = time.perf_counter()
        print(f"registering {args.ballots:,} voters...", flush=True)
        seed_registrations(url, eid, args.ballots, seed=1, credentials_sink=issued.extend)
        validate_registrations(url, eid, settings.data_quality_dir)
        lifecycle.schedule_election(url, eid)
        lifecycle.open_election(url, eid)
        print(f"  registered and opened in {time.perf_counter() - t0:.0f} s", flush=True)
        rng = random.Random(7)
        ballots = []
        for _voter, credential in issued:
            event = VoteEvent.ballot(eid, credential, "east-a", {
                "mayor": [rng.choice(MAYORS)],
                "council": rng.sample(COUNCIL, rng.choice([1, 2, 2])),
                "park-priorities": rng.sample(PARKS, rng.randint(0, 3)),
            })
            ballots.append((event.key, event.to_json()))
        seconds = produce(bootstrap, topic, ballots, None)
        del ballots
        print(f"  produced {len(issued):,} ballots in {seconds:.0f} s", flush=True)
        spark = session(settings.spark_remote)
        t0 = time.perf_counter()
        results = run_micro_batches(spark, url, bootstrap, topic, partitions, seconds=3600,
                                    stop_when_idle=True, say=lambda m: None)
        print(f"  tallied {sum(r.accepted for r in results):,} ballots in "
              f"{time.perf_counter() - t0:.0f} s", flush=True)

        memory = PeakMemory(spark_proc.pid)
        print("certifying...", flush=True)
        t0 = time.perf_counter()
        certified = certify_election(
            Services(url, bootstrap, topic, partitions, spark,
                     quality_dir=settings.data_quality_dir,
                     certificates_dir=settings.certificates_dir, say=print),
            eid, actor="bench")
        total = time.perf_counter() - t0
        memory.stop()
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute("select action, detail ->> 'seconds' from election_audit_log "
                        "where election_id = %s and action like 'certify.%%' "
                        "order by audit_id", (eid,))
            steps = cur.fetchall()
        spark.stop()

    turnout = certified["certificate"]["turnout"]["ballots"]
    print(f"\ncertification benchmark: {turnout:,} counted ballots, "
          f"{len(certified['certificate']['contests'])} contests")
    for action, step_seconds in steps:
        print(f"  {action.removeprefix('certify.'):<10} {float(step_seconds):6.2f} s")
    print(f"  close -> certificate {total:.1f} s (target <= 60 s)")
    print(f"  certificate sha256 {certified['certificate_sha256']}")
    print(peak_rss_line(memory))


if __name__ == "__main__":
    main()
