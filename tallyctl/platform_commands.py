"""``tallyflow up``, ``down``, ``status`` and ``init``: run and look after the platform."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time

from tallyctl.output import print_table
from tallyflow.settings import Settings


class _Interrupted(Exception):
    """Ctrl-C or SIGTERM reached ``tallyflow up``."""


def _raise_interrupted(signum, _frame):
    raise _Interrupted(signal.Signals(signum).name)


def cmd_up(settings: Settings, args: argparse.Namespace) -> int:
    from tallyctl.stack import Stack, preflight, summary_rows
    from tallyctl.stack.process import StartupError

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
            from tallyctl.demo import run_demo

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
    return _await_tally(settings, timeout)


def cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    from tallyctl.stack import down, running_supervisor

    supervisor = running_supervisor(settings)
    if _broker_log_in_memory(settings) and not args.force and supervisor:
        # Stop the demo's simulator first: while it casts, the tally never catches up.
        with contextlib.suppress(OSError):
            os.kill(supervisor, signal.SIGUSR1)
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
    from tallyctl.stack import health, read_state, running_supervisor

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
                  f"the close, kept in PostgreSQL (at most {2 * settings.ballot_group - 1} "
                  f"per precinct)")
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
    from tallyctl.stack import Stack

    stack = Stack(settings)
    stack.prepare_database(None)
    stack.prepare_broker(None)
    return 0
