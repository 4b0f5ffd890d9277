"""The ``tallyflow`` command: run the platform and manage elections.

The commands live in ``platform_commands`` (up, down, status, init) and
``election_commands`` (election, registrations, simulate, certify, audit); this module parses
the command line and turns expected errors into one clear line and exit code 1."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from tallyctl.election_commands import (
    cmd_audit,
    cmd_certify,
    cmd_election_create,
    cmd_election_list,
    cmd_election_open,
    cmd_election_schedule,
    cmd_election_show,
    cmd_registrations_import,
    cmd_registrations_seed,
    cmd_registrations_validate,
    cmd_simulate,
)
from tallyctl.platform_commands import DRAIN_TIMEOUT, cmd_down, cmd_init, cmd_status, cmd_up
from tallyctl.rcv_commands import add_rcv_commands
from tallyflow.settings import Settings, SettingsError


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
    audit = commands.add_parser(
        "audit", help="an election's audit trail, its chain of digests checked")
    audit.add_argument("election_id")
    audit.add_argument("--json", action="store_true", help="machine-readable output")
    audit.set_defaults(func=cmd_audit)
    add_rcv_commands(commands)
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
    from tallyflow.rctab import RctabError
    from tallyflow.registrations.roll_import import RollFileError
    from tallyflow.tabulation.ranked import RankedError
    from tallyflow.votes.simulator import SimulationError

    return (DefinitionError, ElectionError, RankedError, RctabError, RollFileError,
            SimulationError)


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
