"""Registration benchmark: generate, load (COPY) and validate (Great Expectations) N voters.

Run: .venv/bin/python bench/registrations.py [--voters 1000000]
Starts its own embedded PostgreSQL on a free port under a throw-away state directory.
Target (2-core machine): 1,000,000 voters generated, loaded and validated in <= 60 s.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from tallyctl.stack import Stack
from tallyctl.stack.process import free_port_env
from tallyflow.elections.definition import load_definition
from tallyflow.elections.store import create_election
from tallyflow.registrations import roll
from tallyflow.registrations.quality import validate_registrations
from tallyflow.settings import Settings

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "elections" / "three-parties.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tallyflow-bench-") as home:
        settings = Settings.from_env(free_port_env(Path(home)))
        stack = Stack(settings, say=lambda message: None)
        try:
            stack.prepare_database(stack.launch_postgres())
            url = settings.database_url
            election = load_definition(EXAMPLE, opens_at="now", closes_at="+12h")
            create_election(url, election, actor="bench")
            timings: dict[str, float] = {}

            def progress(done: int, total: int) -> None:
                print(f"  loaded {done:>9,} / {total:,}", flush=True)

            t0 = time.perf_counter()
            roll.seed_registrations(url, election.election_id, args.voters, seed=args.seed,
                                    credentials_sink=lambda rows: None, progress=progress)
            timings["generate + COPY"] = time.perf_counter() - t0
            t1 = time.perf_counter()
            results = validate_registrations(url, election.election_id,
                                             settings.data_quality_dir)
            timings["validate (4 GX suites)"] = time.perf_counter() - t1
            t2 = time.perf_counter()
            fingerprint = roll.roll_fingerprint(url, election.election_id)
            timings["roll fingerprint"] = time.perf_counter() - t2
            total = time.perf_counter() - t0
        finally:
            stack.stop()

    print(f"\nregistrations benchmark: {args.voters:,} voters, seed {args.seed}")
    for step, seconds in timings.items():
        print(f"  {step:<24} {seconds:7.1f} s")
    print(f"  {'total':<24} {total:7.1f} s   (target <= 60 s for 1,000,000)")
    print(f"  rate                     {args.voters / total:,.0f} voters/s")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"  peak RSS of this process {peak_mib:,.0f} MiB")
    checks = [f"{r.suite_name}={'passed' if r.is_passed else 'FAILED'}" for r in results]
    print(f"  checks: {', '.join(checks)}")
    print(f"  roll fingerprint: {fingerprint}")


if __name__ == "__main__":
    main()
