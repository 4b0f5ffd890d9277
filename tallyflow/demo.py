"""The demo election `tallyflow up --demo` runs on a fresh platform."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from tallyflow.settings import Settings

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "elections"
DEMO_DEFINITION = EXAMPLES / "three-parties.json"
DEMO_VOTERS = 50_000


def run_demo(settings: Settings, say: Callable[[str], None] = print) -> str:
    """Create the three-parties election opening now, register and check its voters, and
    schedule it; the open_elections DAG opens it within a minute. Returns its id."""
    from tallyflow.elections.definition import load_definition
    from tallyflow.elections.store import create_election, schedule_election
    from tallyflow.registrations.quality import check_registrations
    from tallyflow.registrations.roll import credentials_path, seed_with_credentials_file

    election_id = f"demo-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    election = load_definition(DEMO_DEFINITION, opens_at="now", closes_at="+2h",
                               election_id=election_id)
    url = settings.database_url
    create_election(url, election, actor="demo")
    say(f"demo: created election {election_id!r} ({election.title}), open for two hours")
    seed_with_credentials_file(settings.home, url, election_id, DEMO_VOTERS, seed=2026,
                               write_credentials=True, actor="demo")
    say(f"demo: registered {DEMO_VOTERS:,} synthetic voters; credentials in "
        f"{credentials_path(settings.home, election_id)}")
    check_registrations(settings, election_id)
    say(f"demo: registrations passed every check; report at {settings.site_url}/data-docs/")
    schedule_election(url, election_id, actor="demo")
    say("demo: scheduled; Airflow's open_elections DAG opens it within a minute "
        f"(`tallyflow election show {election_id}`)")
    return election_id
