"""The demo election that `tallyflow up --demo` creates."""

from __future__ import annotations

from tallyctl.demo import DEMO_VOTERS, run_demo
from tallyflow.elections.store import get_election


def test_the_demo_election_is_registered_checked_and_open(services_env, services_settings):
    said: list[str] = []

    election_id = run_demo(services_settings, say=said.append, cast_votes=False)

    election = get_election(services_settings.database_url, election_id)
    assert election["status"] == "open"
    assert election["roll_fingerprint"]
    assert election["registered_voters"] == DEMO_VOTERS
    assert all(run["is_passed"] for run in election["validation_runs"])
    credentials = services_settings.home / "credentials" / f"{election_id}.csv"
    assert len(credentials.read_text().splitlines()) == DEMO_VOTERS + 1
    assert said[-1].startswith("demo: open now")
