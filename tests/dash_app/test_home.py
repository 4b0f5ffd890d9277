"""The home page's election list and the Data Docs route, without a browser."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from dash import html

from dash_app import queries
from dash_app.tables import elections_table
from tests.dash_app.conftest import page_text


@pytest.mark.fast
def test_elections_table_from_literal_rows():
    table = elections_table([
        {"election_id": "a", "title": "<b>Mayor</b>", "status": "open", "is_test": True,
         "opens_at": datetime(2026, 11, 3, 7, tzinfo=UTC),
         "closes_at": datetime(2026, 11, 3, 19, tzinfo=UTC)},
    ])

    assert isinstance(table, html.Table)
    text = page_text(table)
    assert "<b>Mayor</b>" in text  # shown as text, never as markup
    assert "open  test" in text and "2026-11-03 07:00" in text and "2026-11-03 19:00" in text


@pytest.mark.fast
def test_no_elections_says_how_to_create_one():
    assert "create_election" in page_text(elections_table([]))


def test_public_elections_reads_what_anyone_may_see(postgres_url, new_election):
    election = new_election()

    rows = {r["election_id"]: r for r in queries.public_elections(postgres_url)}

    assert set(rows[election.election_id]) == {"election_id", "title", "status", "is_test",
                                               "opens_at", "closes_at", "roll_fingerprint",
                                               "certificate_sha256"}
    assert rows[election.election_id]["certificate_sha256"] is None
    assert rows[election.election_id]["status"] == "draft"


def test_data_docs_are_served_from_the_state_directory(services_env, services_settings):
    from dash_app.app import server

    docs = services_settings.data_docs_dir
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.html").write_text("<html>data docs</html>")

    client = server.test_client()

    assert client.get("/data-docs/").data == b"<html>data docs</html>"
    assert client.get("/data-docs/../../secrets/postgres-password").status_code == 404


@pytest.mark.fast
def test_results_are_unofficial_until_certified():
    from dash_app.tables import results_label

    assert page_text(results_label({"election_id": "a", "certificate_sha256": None})) == \
        "Unofficial"
    official = page_text(results_label({"election_id": "a", "certificate_sha256": "ab" * 32}))
    assert official.startswith("Official") and "abababababababab…" in official
