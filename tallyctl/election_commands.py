"""``tallyflow election``, ``registrations``, ``simulate`` and ``certify``."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from tallyctl.output import print_table
from tallyflow.settings import Settings


def _progress_bar(description: str, unit: str):
    """A progress callback drawing a bar on stderr, and a function to close it."""
    from tqdm import tqdm

    bar = tqdm(total=0, desc=description, unit=unit, unit_scale=True, file=sys.stderr,
               mininterval=0.5, dynamic_ncols=True)

    def update(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    return update, bar.close


def _print_validation(results, settings: Settings) -> bool:
    docs = settings.data_docs_dir
    print_table(
        [(r.suite_name, "passed" if r.is_passed else "FAILED", f"{r.row_count:,}",
          r.failed_expectations, r.warned_expectations) for r in results],
        header=("suite", "result", "rows", "failed", "warnings"),
    )
    for r in results:
        for failure in r.failures:
            print(f"  {r.suite_name}: [{failure['severity']}] {failure['summary']}")
    print(f"data quality report: {docs / 'index.html'}")
    return all(r.is_passed for r in results)


def _validate(settings: Settings, election_id: str) -> bool:
    from tallyflow.registrations.quality import validate_registrations

    print("validating registrations with Great Expectations...", file=sys.stderr, flush=True)
    results = validate_registrations(settings.database_url, election_id,
                                     settings.data_quality_dir)
    return _print_validation(results, settings)


def cmd_election_create(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import lifecycle, store
    from tallyflow.elections.definition import load_definition

    election = load_definition(args.file, opens_at=args.opens_at, closes_at=args.closes_at,
                               election_id=args.id)
    if args.test_mode:
        election = dataclasses.replace(election, is_test=True)
    if args.credentials_out and not election.is_test:
        print(f"tallyflow: election {election.election_id!r} is not in test mode: its voters' "
              "credentials are not written to a file (add --test-mode, or \"test_mode\": "
              "true in the definition, for a test election)", file=sys.stderr)
        return 2
    url = settings.database_url
    store.create_election(url, election, actor="cli")
    print(f"created election {election.election_id!r} ({election.title}) as a draft")
    if args.voters is not None:
        if cmd_registrations_seed(settings, argparse.Namespace(
            election=election.election_id, voters=args.voters, seed=args.seed, replace=False,
            credentials_out=args.credentials_out, no_validate=False,
        )) != 0:
            return 1
        lifecycle.schedule_election(url, election.election_id, actor="cli")
        print(f"scheduled: it opens at {election.opens_at:%Y-%m-%d %H:%M} UTC "
              f"and closes at {election.closes_at:%Y-%m-%d %H:%M} UTC")
    return 0


def cmd_election_list(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import store

    elections = store.list_elections(settings.database_url)
    if args.json:
        print(store.to_json(elections))
        return 0
    if not elections:
        print("no elections yet: create one with `tallyflow election create FILE`")
        return 0
    checks = {None: "not run", True: "passed", False: "FAILED"}
    print_table(
        [(e["election_id"], e["title"], e["status"] + (" (test)" if e["is_test"] else ""),
          f"{e['opens_at']:%Y-%m-%d %H:%M}", f"{e['closes_at']:%Y-%m-%d %H:%M}",
          f"{e['registered_voters']:,}", checks[e["is_roll_valid"]]) for e in elections],
        header=("id", "title", "status", "opens (UTC)", "closes (UTC)", "voters", "roll check"),
    )
    return 0


def cmd_election_show(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import lifecycle, store
    from tallyflow.elections.definition import YES_NO_OPTIONS

    election = store.get_election(settings.database_url, args.election_id)
    if args.json:
        print(store.to_json(election))
        return 0
    definition = election["definition"]
    rows = [
        ("title", election["title"]),
        ("status", election["status"] + (" (test mode)" if election["is_test"] else "")),
        ("opens", f"{election['opens_at']:%Y-%m-%d %H:%M} UTC"),
        ("closes", f"{election['closes_at']:%Y-%m-%d %H:%M} UTC"),
        ("tallies", "embargoed until close" if election["is_tally_embargoed"] else "live"),
        ("regions", str(len(definition["regions"]))),
        ("registered voters", f"{election['registered_voters']:,}"),
        ("roll fingerprint", election["roll_fingerprint"] or "not frozen yet (frozen at opening)"),
        ("definition sha256", election["definition_sha256"]),
    ]
    print_table(rows, header=("election", election["election_id"]))
    for contest in definition["contests"]:
        options = contest.get("options") or [{"name": name} for _id, name in YES_NO_OPTIONS]
        extra = f", threshold {contest['threshold']}" if "threshold" in contest else ""
        seats = f", {contest['seats']} seats" if contest.get("seats", 1) > 1 else ""
        print(f"\n{contest['title']} [{contest['kind']}{seats}{extra}]")
        for option in options:
            party = f" ({option['party']})" if option.get("party") else ""
            print(f"  - {option['name']}{party}")
    runs = election["validation_runs"]
    if runs:
        print()
        print_table(
            [(r["suite_name"], "passed" if r["is_passed"] else "FAILED",
              f"{r['validated_at']:%Y-%m-%d %H:%M:%S}", f"{r['row_count']:,}",
              r["report_url"] or "") for r in runs],
            header=("check", "result", "when (UTC)", "rows", "report"),
        )
    if election["status"] == "scheduled":
        blockers = lifecycle.opening_blockers(settings.database_url, args.election_id)
        print("\nready to open" if not blockers else "\ncannot open yet: " + "; ".join(blockers))
    return 0


def cmd_election_schedule(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import lifecycle

    lifecycle.schedule_election(settings.database_url, args.election_id, actor="cli")
    print(f"election {args.election_id!r} is scheduled")
    return 0


def cmd_election_open(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import lifecycle

    digest = lifecycle.open_election(settings.database_url, args.election_id, actor="cli")
    print(f"election {args.election_id!r} is open; voter roll fingerprint {digest}")
    return 0


def cmd_registrations_seed(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.registrations import roll

    if args.credentials_out:
        roll.require_test_mode(settings.database_url, args.election)
    sink = roll.credentials_file_sink(Path(args.credentials_out)) if args.credentials_out else None
    update, close = _progress_bar("registering voters", "voter")
    try:
        loaded = roll.seed_registrations(settings.database_url, args.election, args.voters,
                                         seed=args.seed, replace=args.replace,
                                         credentials_sink=sink, progress=update, actor="cli")
    finally:
        close()
    print(f"registered {loaded:,} synthetic voters in {args.election!r} (seed {args.seed})")
    if args.credentials_out:
        print(f"voting credentials written to {args.credentials_out} (keep it secret)")
    if args.no_validate:
        return 0
    return 0 if _validate(settings, args.election) else 1


def cmd_registrations_import(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.registrations import roll, roll_import

    if args.credentials_out:
        roll.require_test_mode(settings.database_url, args.election)
    sink = roll.credentials_file_sink(Path(args.credentials_out)) if args.credentials_out else None
    update, close = _progress_bar("loading voters", "voter")
    try:
        report = roll_import.import_roll(settings.database_url, args.election, args.file,
                                         credentials_sink=sink, progress=update, actor="cli")
    finally:
        close()
    print(f"loaded {report.loaded:,} voters from {report.source_name}; "
          f"quarantined {len(report.quarantined):,} row(s)")
    for line, reason in report.quarantined[:20]:
        print(f"  line {line}: {reason}")
    if len(report.quarantined) > 20:
        print(f"  ... and {len(report.quarantined) - 20:,} more in quarantined_registrations")
    if args.no_validate:
        return 0
    valid = _validate(settings, args.election)
    return 0 if valid and not report.quarantined else 1


def cmd_registrations_validate(settings: Settings, args: argparse.Namespace) -> int:
    return 0 if _validate(settings, args.election) else 1


def cmd_simulate(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.registrations.roll import credentials_path
    from tallyflow.votes.simulator import read_credentials, simulate

    path = Path(args.credentials) if args.credentials else credentials_path(settings.home,
                                                                            args.election)
    credentials = read_credentials(path)

    def progress(report, total: int) -> None:
        print(f"simulate: sent {report.sent:,}/{total:,} in {report.seconds:.0f} s "
              f"({report.rate:,.0f}/s), {sum(report.invalid.values()):,} invalid on purpose",
              file=sys.stderr, flush=True)

    report = simulate(settings.database_url, settings.kafka_bootstrap, settings.votes_topic,
                      args.election, credentials, rate=args.rate, count=args.count,
                      invalid_ratio=args.invalid_ratio, seed=args.seed, progress=progress)
    mix = ", ".join(f"{k} {n:,}" for k, n in report.invalid.items() if n)
    print(f"sent {report.sent:,} ballot events in {report.seconds:.1f} s "
          f"({report.rate:,.0f}/s achieved, {args.rate:,.0f}/s asked); "
          f"invalid on purpose: {mix or 'none'}; delivery failures: {report.failed}")
    return 0 if report.failed == 0 else 1


def cmd_certify(settings: Settings, args: argparse.Namespace) -> int:
    from jobs.certify_election import Services, certify_election
    from jobs.spark import session

    def say(message: str) -> None:
        print(f"certify: {message}", file=sys.stderr, flush=True)

    spark = session(settings.spark_remote)
    try:
        certified = certify_election(Services.from_settings(settings, spark, say=say),
                                     args.election, actor=args.actor)
    finally:
        spark.stop()
    if certified.get("already_certified"):
        print(f"{args.election} was already certified at {certified['certified_at']}: "
              f"sha256 {certified['certificate_sha256']}")
        return 0
    print(f"{args.election} certified: sha256 {certified['certificate_sha256']}")
    for kind, path in certified["files"].items():
        print(f"  {kind}: {path}")
    return 0


def cmd_audit(settings: Settings, args: argparse.Namespace) -> int:
    """Print the trail (or its JSON); exit 1 when its chain of digests is broken."""
    import json

    from tallyflow.elections.trail import audit_trail

    trail = audit_trail(settings.database_url, args.election_id)
    if args.json:
        print(json.dumps(trail.to_json(), indent=2, default=str))
    else:
        for entry in trail.entries:
            detail = json.dumps(entry["detail"], default=str, sort_keys=True)
            print(f"{entry['recorded_at']:%Y-%m-%d %H:%M:%S} UTC  {entry['action']:<22} "
                  f"{entry['outcome']:<8} {entry['actor']:<16} "
                  f"{detail if len(detail) <= 60 else detail[:57] + '...'}")
        print(f"\n{len(trail.entries)} entries; "
              + ("the chain of digests is intact (last "
                 f"{trail.entries[-1]['entry_sha256'][:16]}...)" if trail.entries and
                 not trail.breaks else "no entries" if not trail.breaks else
                 "THE CHAIN IS BROKEN:\n  " + "\n  ".join(trail.breaks)))
    return 1 if trail.breaks else 0
