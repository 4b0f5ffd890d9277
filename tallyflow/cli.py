"""The ``tallyflow`` command: run the platform and manage elections."""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from tallyflow.settings import Settings, SettingsError


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM reached ``tallyflow up``."""


def _raise_interrupted(signum, _frame):
    raise _Interrupted(signal.Signals(signum).name)


def print_table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> None:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(cells: Sequence[str]) -> str:
        return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths)) + " |"  # noqa: B905

    print("\n".join([rule, line(header), rule, *(line(r) for r in rows), rule]))


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.stack import Stack, preflight, summary_rows
    from tallyflow.stack.process import StartupError

    preflight(settings)
    stack = Stack(settings, say=lambda message: print(message, flush=True))
    # `tallyflow down` (SIGUSR1) and Ctrl-C stop the demo's simulator before anything else.
    producers_stop = threading.Event()
    signal.signal(signal.SIGUSR1, lambda _signum, _frame: producers_stop.set())
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    code = 0
    try:
        stack.start()
        print_table(summary_rows(settings), header=("component", "where", "notes"))
        if args.demo:
            from tallyflow.demo import run_demo

            try:
                run_demo(settings, say=lambda message: print(message, flush=True),
                         stop=producers_stop)
            except Exception as err:  # the platform stays up for the user to look into it
                print(f"demo: failed: {err}", file=sys.stderr, flush=True)
        print("Everything is up. Press Ctrl-C or run `tallyflow down` to stop.", flush=True)
        _supervise_until_stopped(stack, settings, producers_stop)
    except _Interrupted as signame:
        with contextlib.suppress(OSError):
            print(f"\n{signame}: stopping the platform", flush=True)
    except StartupError as err:
        print(f"tallyflow: start-up failed: {err}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        producers_stop.set()
        stack.stop()
        with contextlib.suppress(OSError):
            print("stopped.", flush=True)
    return code


DRAIN_TIMEOUT = 120.0


def _supervise_until_stopped(stack, settings: Settings, producers_stop: threading.Event) -> None:
    """Supervise until stopped. SIGTERM (what `tallyflow down` sends once the tally has
    caught up, or with --force) stops at once. The first Ctrl-C stops the demo's simulator
    and waits for the tally, like `down`; if events are still untallied after
    ``DRAIN_TIMEOUT`` the platform keeps running, and another Ctrl-C stops it anyway."""
    graceful = True
    while True:
        try:
            stack.supervise()  # restarts what dies; returns only through a signal
        except _Interrupted as signame:
            print(f"\n{signame}: stopping the platform", flush=True)
            if signame.args[0] != "SIGINT" or not graceful or not _broker_log_in_memory(settings):
                return
            graceful = False
            try:
                left = _wind_down(settings, producers_stop, DRAIN_TIMEOUT)
            except _Interrupted:
                print("Ctrl-C again: stopping now", flush=True)
                return
            if not left:
                return
            print(f"not stopping: {left:,} vote event(s) in the broker's memory are not "
                  f"tallied yet and would be lost with it; the platform keeps running. Press "
                  f"Ctrl-C again to stop anyway.", flush=True)


def _broker_log_in_memory(settings: Settings) -> bool:
    return settings.embeds_kafka and settings.kafka_storage == "memory"


def _wind_down(settings: Settings, producers_stop: threading.Event, timeout: float) -> int:
    """Stop the demo's simulator, then wait for the tally; the events still untallied."""
    if not producers_stop.is_set():
        producers_stop.set()
        print("the demo simulator stops casting (if it runs)", flush=True)
    _release_ballot_groups(settings, timeout)
    return _await_tally(settings, timeout)


def _release_ballot_groups(settings: Settings, timeout: float) -> None:
    """Have the tally count the ballots it holds back for their group (see
    docs/security.md): the broker's memory would lose them. Recorded with why."""
    from tallyflow.votes.ledger import release_ballot_groups

    try:
        release_ballot_groups(settings.database_url, timeout,
                              "the platform is stopping and the broker keeps its log in "
                              "memory: held ballots are counted now, in smaller groups "
                              "if need be")
    except Exception as err:  # the database is gone: nothing is tallied anyway
        print(f"cannot ask the tally to count held ballots ({err})")
        return
    print("the tally counts the ballots it holds back for their group now, in smaller groups "
          "if need be, rather than lose them with the broker's memory", flush=True)


def cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.stack import down, running_supervisor

    supervisor = running_supervisor(settings)
    if _broker_log_in_memory(settings) and not args.force and supervisor:
        # Stop the demo's simulator first: while it casts, the tally never catches up.
        with contextlib.suppress(OSError):
            os.kill(supervisor, signal.SIGUSR1)
        _release_ballot_groups(settings, args.drain_timeout)
        left = _await_tally(settings, args.drain_timeout)
        if left:
            print(f"refusing to stop: {left:,} vote event(s) in the broker's memory are not "
                  f"tallied yet and would be lost with it. Ballots cast through the API are "
                  f"also kept in the outbox and published again by the next `up`; events from "
                  f"the simulator or any other producer are not. Wait for the tally (is the "
                  f"tally_votes DAG running?), or run `tallyflow down --force`.",
                  file=sys.stderr)
            return 1
    if not down(settings):
        print(f"nothing is running from {settings.home}")
    else:
        print("stopped.")
    return 0


def _await_tally(settings: Settings, timeout: float) -> int:
    """Wait up to ``timeout`` s for the running tally to catch up; the events still left."""
    from tallyflow.votes.ledger import untallied

    deadline = time.monotonic() + timeout
    while True:
        try:
            left = untallied(settings.database_url, settings.kafka_bootstrap,
                             settings.votes_topic)
        except Exception as err:  # nothing to wait for if the broker or database is gone
            print(f"cannot tell what is untallied ({err}); stopping anyway")
            return 0
        if not left:
            print("the tally has counted or rejected every event in the broker", flush=True)
            return 0
        if time.monotonic() > deadline:
            return left
        print(f"waiting for the tally: {left:,} event(s) in the broker not tallied yet",
              flush=True)
        time.sleep(3.0)


def _at_risk(settings: Settings) -> dict | None:
    """What a stop of the embedded in-memory broker would lose right now."""
    from tallyflow.votes.ledger import untallied
    from tallyflow.votes.outbox import waiting

    if not (settings.embeds_kafka and settings.kafka_storage == "memory"):
        return None
    try:
        return {"broker_log": "memory",
                "untallied_events": untallied(settings.database_url, settings.kafka_bootstrap,
                                              settings.votes_topic),
                "outbox_waiting": waiting(settings.database_url)}
    except Exception:
        return None


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.stack import health, read_state, running_supervisor

    results = health.check_all(settings)
    components = (read_state(settings) or {}).get("components", {})
    restarts = {name: {"restarts": info.get("restarts", 0),
                       "last_exit_code": info.get("last_exit_code")}
                for name, info in components.items()}
    database_up = bool(results) and results[0].is_healthy
    pipeline = _pipeline(settings) if database_up else None
    at_risk = _at_risk(settings) if database_up else None
    if args.json:
        print(json.dumps({
            "supervisor_pid": running_supervisor(settings),
            "healthy": all(h.is_healthy for h in results),
            "components": [h.as_dict() for h in results],
            "pipeline": pipeline,
            "at_risk": at_risk,
            "restarts": restarts,
        }, indent=2))
    else:
        print_table(
            [(h.component, "ok" if h.is_healthy else "DOWN", h.address, h.detail) for h in results],
            header=("component", "health", "where", "detail"),
        )
        if database_up and pipeline is None:
            print("tally: no batch yet")
        elif pipeline is not None:
            print(f"tally: last batch {pipeline['seconds_ago']:.0f} s ago, "
                  f"{pipeline['batch_events']:,} events in "
                  f"{pipeline['batch_duration_ms'] / 1000:.2f} s; "
                  f"{pipeline['consumer_lag'] or 0:,} events waiting; the oldest of its "
                  f"events waited {(pipeline['freshness_ms'] or 0) / 1000:.1f} s")
        restarted = {name: r for name, r in restarts.items() if r["restarts"]}
        if restarted:
            print("restarted by the supervisor: " + ", ".join(
                f"{name} {r['restarts']}x (last exit code {r['last_exit_code']})"
                for name, r in sorted(restarted.items())))
        if pipeline is not None and pipeline.get("log_resets"):
            print(f"tally: re-based onto a replaced broker log {pipeline['log_resets']} time(s), "
                  f"last at {pipeline['last_log_reset_at']}: {pipeline['last_log_reset_reason']}")
        if at_risk is not None:
            print(f"broker log in memory: {at_risk['untallied_events']:,} untallied event(s) "
                  f"would be lost if the broker stopped now; {at_risk['outbox_waiting']:,} "
                  f"ballot(s) from the casting API are safe in the outbox until counted")
        if settings.ballot_group > 1:
            print(f"ballot secrecy: an open election's ballots are counted {settings.ballot_group}"
                  f" or more per precinct at a time, and as many wait for the next group or "
                  f"the close: a few events stay untallied while voting goes on")
    return 0 if all(h.is_healthy for h in results) else 1


def _pipeline(settings: Settings) -> dict | None:
    """The tally's latest batch, for operators; None when there is none or no database."""
    import psycopg2

    from tallyflow.votes.ledger import log_reset_summary, pipeline_health

    try:
        health = pipeline_health(settings.database_url, settings.votes_topic)
        if health is not None:
            health.update(log_reset_summary(settings.database_url, settings.votes_topic))
        return health
    except psycopg2.Error:  # e.g. a database not migrated yet: status still reports health
        return None


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Prepare the configured services: databases, migrations, topics (as `up` does)."""
    from tallyflow.stack import Stack

    stack = Stack(settings)
    stack.prepare_database(None)
    stack.prepare_broker(None)
    return 0


# -- elections and registrations ----------------------------------------------------------


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
    from tallyflow.elections import store
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
        store.schedule_election(url, election.election_id, actor="cli")
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
    from tallyflow.elections import store
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
        blockers = store.opening_blockers(settings.database_url, args.election_id)
        print("\nready to open" if not blockers else "\ncannot open yet: " + "; ".join(blockers))
    return 0


def cmd_election_schedule(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import store

    store.schedule_election(settings.database_url, args.election_id, actor="cli")
    print(f"election {args.election_id!r} is scheduled")
    return 0


def cmd_election_open(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.elections import store

    digest = store.open_election(settings.database_url, args.election_id, actor="cli")
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
    from tallyflow.registrations import roll

    if args.credentials_out:
        roll.require_test_mode(settings.database_url, args.election)
    sink = roll.credentials_file_sink(Path(args.credentials_out)) if args.credentials_out else None
    update, close = _progress_bar("loading voters", "voter")
    try:
        report = roll.import_roll(settings.database_url, args.election, args.file,
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
    from tallyflow.certification import Services, certify_election
    from tallyflow.stack.spark import session

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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="tallyflow",
        description="Real-time election analytics on Kafka, Spark, Postgres, Airflow and Dash.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    up = commands.add_parser("up", help="start the whole platform and keep it running")
    up.add_argument("--demo", action="store_true", help="also run the demo election")
    up.set_defaults(func=cmd_up)

    init = commands.add_parser(
        "init", help="create databases, migrations and topics on the configured services"
    )
    init.set_defaults(func=cmd_init)

    down = commands.add_parser(
        "down", help="stop everything `tallyflow up` started (after the tally has caught up)")
    down.add_argument("--force", action="store_true",
                      help="stop now, even if untallied events are in the broker's memory")
    down.add_argument("--drain-timeout", type=float, default=DRAIN_TIMEOUT,
                      help="seconds to wait for the tally to catch up (default 120)")
    down.set_defaults(func=cmd_down)

    status = commands.add_parser("status", help="health of every component")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)

    _add_election_commands(commands)
    _add_registration_commands(commands)

    simulate = commands.add_parser("simulate", help="cast synthetic ballots at a steady rate")
    simulate.add_argument("--election", required=True, metavar="ID")
    simulate.add_argument("--rate", type=float, default=200.0, metavar="R",
                          help="ballots per second on average (default 200)")
    simulate.add_argument("--count", type=_non_negative, required=True, metavar="N")
    simulate.add_argument("--invalid-ratio", type=float, default=0.0, metavar="F",
                          help="share of deliberately bad events, 0 to 1")
    simulate.add_argument("--credentials", metavar="FILE",
                          help="voter_id,credential file (default: the one seeding wrote "
                               "under the state directory)")
    simulate.add_argument("--seed", type=int, default=0)
    simulate.set_defaults(func=cmd_simulate)

    certify = commands.add_parser(
        "certify", help="close, drain, recount, reconcile and certify an election")
    certify.add_argument("--election", required=True, help="election id")
    certify.add_argument("--actor", default=os.environ.get("USER") or "cli",
                         help="who certifies, for the audit log (default: $USER)")
    certify.set_defaults(func=cmd_certify)
    return parser


def _add_election_commands(commands) -> None:
    election = commands.add_parser("election", help="create and inspect elections")
    sub = election.add_subparsers(dest="election_command", required=True)

    create = sub.add_parser("create", help="create an election from a JSON or YAML definition")
    create.add_argument("file", help="definition file (see schemas/election.schema.json)")
    create.add_argument("--id", help="use this election id instead of the file's")
    create.add_argument("--opens-at", metavar="TIME",
                        help="override the opening time: ISO 8601 UTC, 'now' or '+30m'/'+2h'/'+1d'")
    create.add_argument("--closes-at", metavar="TIME", help="override the closing time, as above")
    create.add_argument("--voters", type=_non_negative, metavar="N",
                        help="also seed N synthetic voters, validate them and schedule")
    create.add_argument("--seed", type=int, default=0, help="random seed for --voters")
    create.add_argument("--test-mode", action="store_true",
                        help="mark the election a test (as \"test_mode\": true would)")
    create.add_argument("--credentials-out", metavar="FILE",
                        help="with --voters, for a test election only: write "
                             "voter_id,credential here")
    create.set_defaults(func=cmd_election_create)

    listing = sub.add_parser("list", help="every election with its status")
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(func=cmd_election_list)

    show = sub.add_parser("show", help="one election: contests, roll, checks")
    show.add_argument("election_id")
    show.add_argument("--json", action="store_true", help="machine-readable output")
    show.set_defaults(func=cmd_election_show)

    schedule = sub.add_parser("schedule", help="a draft election becomes scheduled")
    schedule.add_argument("election_id")
    schedule.set_defaults(func=cmd_election_schedule)

    opening = sub.add_parser("open", help="open a scheduled election now, freezing its roll")
    opening.add_argument("election_id")
    opening.set_defaults(func=cmd_election_open)


def _add_registration_commands(commands) -> None:
    registrations = commands.add_parser("registrations", help="the voter roll of an election")
    sub = registrations.add_subparsers(dest="registrations_command", required=True)

    seed = sub.add_parser("seed", help="register synthetic voters (deterministic per seed)")
    seed.add_argument("--election", required=True, metavar="ID")
    seed.add_argument("--voters", required=True, type=_non_negative, metavar="N")
    seed.add_argument("--seed", type=int, default=0, metavar="S")
    seed.add_argument("--replace", action="store_true", help="replace an existing roll")
    seed.add_argument("--credentials-out", metavar="FILE",
                      help="test elections only: write voter_id,credential here (for the "
                           "simulator and tests)")
    seed.add_argument("--no-validate", action="store_true", help="skip the data-quality checks")
    seed.set_defaults(func=cmd_registrations_seed)

    imports = sub.add_parser("import", help="load a voter roll from CSV; bad rows are quarantined")
    imports.add_argument("--election", required=True, metavar="ID")
    imports.add_argument("file", help="CSV with voter_id,full_name,birth_date,gender,"
                                      "region_id,registered_on")
    imports.add_argument("--credentials-out", metavar="FILE",
                         help="test elections only: write voter_id,credential here")
    imports.add_argument("--no-validate", action="store_true",
                         help="skip the data-quality checks")
    imports.set_defaults(func=cmd_registrations_import)

    validate = sub.add_parser("validate", help="run the Great Expectations checks again")
    validate.add_argument("--election", required=True, metavar="ID")
    validate.set_defaults(func=cmd_registrations_validate)


def _non_negative(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError("must be 0 or more")
    return value


def _user_errors() -> tuple[type[Exception], ...]:
    from tallyflow.elections.definition import DefinitionError
    from tallyflow.elections.store import ElectionError
    from tallyflow.registrations.roll import RollFileError
    from tallyflow.votes.simulator import SimulationError

    return DefinitionError, ElectionError, RollFileError, SimulationError


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.func(settings, args)
    except SettingsError as err:
        print(f"tallyflow: configuration error: {err}", file=sys.stderr)
        return 2
    except _user_errors() as err:
        print(f"tallyflow: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
