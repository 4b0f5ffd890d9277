"""The ``tallyflow`` command: run the platform and manage elections."""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
from collections.abc import Sequence

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
    from tallyflow.stack.process import StartupError, log_tail

    preflight(settings)
    stack = Stack(settings, say=lambda message: print(message, flush=True))
    signal.signal(signal.SIGINT, _raise_interrupted)
    signal.signal(signal.SIGTERM, _raise_interrupted)
    code = 0
    try:
        stack.start()
        print_table(summary_rows(settings), header=("component", "where", "notes"))
        if args.demo:
            print("demo: no demo election is defined yet; the platform is up and empty.")
        print("Everything is up. Press Ctrl-C or run `tallyflow down` to stop.", flush=True)
        dead = stack.watch()
        print(f"tallyflow: {dead.name} exited with code {dead.exited()}; stopping the platform.\n"
              f"last lines of {dead.log_path}:\n{log_tail(dead.log_path)}", file=sys.stderr)
        code = 1
    except _Interrupted as signame:
        with contextlib.suppress(OSError):
            print(f"\n{signame}: stopping the platform", flush=True)
    except StartupError as err:
        print(f"tallyflow: start-up failed: {err}", file=sys.stderr)
        code = 1
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stack.stop()
        with contextlib.suppress(OSError):
            print("stopped.", flush=True)
    return code


def cmd_down(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.stack import down

    if not down(settings):
        print(f"nothing is running from {settings.home}")
    else:
        print("stopped.")
    return 0


def cmd_status(settings: Settings, args: argparse.Namespace) -> int:
    from tallyflow.stack import health, running_supervisor

    results = health.check_all(settings)
    if args.json:
        print(json.dumps({
            "supervisor_pid": running_supervisor(settings),
            "healthy": all(h.is_healthy for h in results),
            "components": [h.as_dict() for h in results],
        }, indent=2))
    else:
        print_table(
            [(h.component, "ok" if h.is_healthy else "DOWN", h.address, h.detail) for h in results],
            header=("component", "health", "where", "detail"),
        )
    return 0 if all(h.is_healthy for h in results) else 1


def cmd_init(settings: Settings, args: argparse.Namespace) -> int:
    """Prepare the configured services: databases, migrations, topics (as `up` does)."""
    from tallyflow.stack import Stack

    stack = Stack(settings)
    stack.prepare_database(None)
    stack.prepare_broker(None)
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

    down = commands.add_parser("down", help="stop everything `tallyflow up` started")
    down.set_defaults(func=cmd_down)

    status = commands.add_parser("status", help="health of every component")
    status.add_argument("--json", action="store_true", help="machine-readable output")
    status.set_defaults(func=cmd_status)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        return args.func(settings, args)
    except SettingsError as err:
        print(f"tallyflow: configuration error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
