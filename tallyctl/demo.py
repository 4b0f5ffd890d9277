"""The demo election `tallyflow up --demo` runs on a fresh platform."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tallyflow.settings import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "elections"
DEMO_DEFINITION = EXAMPLES / "three-parties.json"
DEMO_VOTERS = 100_000
DEMO_BALLOTS = 70_000
DEMO_RATE = 200.0
DEMO_INVALID_RATIO = 0.03


def run_demo(settings: Settings, say: Callable[[str], None] = print, *,
             cast_votes: bool = True, stop: threading.Event | None = None) -> str:
    """Run a live election: the three-parties example, open for the next hour, with 100,000
    checked voters; then (``cast_votes``) the simulator casts ballots at about 200/s in
    the background while the tally_votes DAG counts them, until ``stop`` is set. Returns
    the election id."""
    from tallyflow.elections.definition import load_definition
    from tallyflow.elections.lifecycle import open_election, schedule_election
    from tallyflow.elections.store import create_election
    from tallyflow.registrations.quality import check_registrations
    from tallyflow.registrations.roll import credentials_path, seed_with_credentials_file

    election_id = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    election = load_definition(DEMO_DEFINITION, opens_at="now", closes_at="+1h",
                               election_id=election_id)
    url = settings.database_url
    create_election(url, election, actor="demo")
    say(f"demo: created election {election_id!r} ({election.title}), open for an hour")
    seed_with_credentials_file(settings.home, url, election_id, DEMO_VOTERS, seed=2026,
                               write_credentials=True, actor="demo")
    say(f"demo: registered {DEMO_VOTERS:,} synthetic voters; credentials in "
        f"{credentials_path(settings.home, election_id)}")
    check_registrations(settings, election_id)
    say(f"demo: registrations passed every check; report at {settings.site_url}/data-docs/")
    schedule_election(url, election_id, actor="demo")
    digest = open_election(url, election_id, actor="demo")
    say(f"demo: open now; voter roll fingerprint {digest[:16]}...")
    if cast_votes:
        threading.Thread(target=_cast_votes, args=(settings, election_id, say, stop), daemon=True,
                         name="demo-simulator").start()
        say(f"demo: casting {DEMO_BALLOTS:,} ballots at about {DEMO_RATE:.0f}/s "
            f"({DEMO_INVALID_RATIO:.0%} invalid on purpose); the tally_votes DAG counts them")
    return election_id


def _cast_votes(settings: Settings, election_id: str, say: Callable[[str], None],
                stop: threading.Event | None) -> None:
    from tallyflow.registrations.roll import credentials_path
    from tallyflow.votes.simulator import read_credentials, simulate

    try:
        report = simulate(
            settings.database_url, settings.kafka_bootstrap, settings.votes_topic, election_id,
            read_credentials(credentials_path(settings.home, election_id)),
            rate=DEMO_RATE, count=DEMO_BALLOTS, invalid_ratio=DEMO_INVALID_RATIO, seed=2026,
            stop=stop,
        )
        ended = " (stopped for shutdown)" if stop is not None and stop.is_set() else ""
        say(f"demo: the simulator sent {report.sent:,} ballots in {report.seconds:.0f} s"
            + ended)
    except Exception as err:  # the platform stays up; the user sees why the votes stopped
        say(f"demo: the simulator stopped: {err}")
