"""The versioned results feed: versions, ETags and 304s, what changed since a version, and the
hash chain that the voter's script (scripts/verify_feed.py) checks over real HTTP."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import psycopg2
import pytest
from werkzeug.serving import make_server

from tallyflow import db
from tallyflow.feeds.chain import GENESIS, etag, json_patch, link, sha256_text

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_feed.py"


@pytest.mark.fast
def test_a_patch_names_only_what_changed():
    old = {"a": 1, "b": {"c": [1, 2], "d": "x"}, "gone": True}
    new = {"a": 1, "b": {"c": [1, 3], "d": "x", "e/f": 0}}

    assert json_patch(old, new) == [
        {"op": "remove", "path": "/gone"},
        {"op": "replace", "path": "/b/c/1", "value": 3},
        {"op": "add", "path": "/b/e~1f", "value": 0}]
    assert json_patch([1], [1, 2]) == [{"op": "replace", "path": "", "value": [1, 2]}]
    assert json_patch(new, new) == []
    assert json_patch({"n": 1}, {"n": 1.0}) == [{"op": "replace", "path": "/n", "value": 1.0}]


@pytest.mark.fast
def test_the_chain_links_each_version_to_the_one_before():
    first = link(GENESIS, sha256_text("one"))
    second = link(first, sha256_text("two"))

    assert second == sha256_text(first + sha256_text("two"))
    assert second != link(link(GENESIS, sha256_text("ONE")), sha256_text("two"))
    assert etag(7, "ab" * 32) == '"v7-abababababababab"'


@pytest.fixture
def site(services_env):
    """The results site behind a real HTTP server on a free port."""
    from dash_app.app import server

    httpd = make_server("127.0.0.1", 0, server, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    thread.join(10)


def _verify(site: str, election_id: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), site, election_id, *extra],
                          capture_output=True, text=True, timeout=120)


def test_each_new_state_is_a_new_version_and_the_chain_verifies(
        services_env, postgres_url, counted_election, site):
    from dash_app.app import server

    client = server.test_client()
    path = f"/api/v1/elections/{counted_election}/results"

    first = client.get(path)
    assert first.headers["X-Feed-Version"] == "1"
    assert client.get(path).headers["ETag"] == first.headers["ETag"]  # unchanged: same
    unchanged = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert unchanged.status_code == 304 and unchanged.data == b""
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("update option_totals set votes = 30 where election_id = %s "
                    "and option_id = 'bruno-lind'", (counted_election,))
    second = client.get(path, headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 200 and second.headers["X-Feed-Version"] == "2"

    changes = client.get(f"{path}?since=1").json
    assert changes["version"] == 2
    assert {"op": "replace", "path": "/contests/0/options/1/votes", "value": 30} in \
        changes["changes"]
    assert client.get(f"{path}?since=9").status_code == 404
    assert client.get(f"{path}?since=x").status_code == 400
    history = client.get(f"/api/v1/elections/{counted_election}/feed").json["versions"]
    assert [v["version"] for v in history] == [1, 2]
    assert history[1]["chain_sha256"] == second.headers["X-Feed-Chain-SHA256"]

    kept = f"2:{second.headers['X-Feed-Chain-SHA256']}"
    checked = _verify(site, counted_election, "--expect", kept)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "OK: every published version" in checked.stdout


def test_no_runtime_role_can_rewrite_the_history_and_an_edit_is_caught(
        services_env, services_settings, postgres_url, counted_election, site):
    from dash_app.app import server

    client = server.test_client()
    client.get(f"/api/v1/elections/{counted_election}/results")
    with pytest.raises(psycopg2.Error, match="permission denied"), \
            db.connection(services_settings.site_database_url) as conn, conn.cursor() as cur:
        cur.execute("update published_snapshots set content = '{}'")
    with pytest.raises(psycopg2.Error, match="never changed or removed"), \
            db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("delete from published_snapshots where election_id = %s",
                    (counted_election,))

    # An insider who owns the table turns the lock off and edits a published number.
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("alter table published_snapshots disable trigger published_snapshots_lock")
        cur.execute("update published_snapshots set content = replace(content, '40', '41') "
                    "where election_id = %s", (counted_election,))
        cur.execute("alter table published_snapshots enable trigger published_snapshots_lock")

    checked = _verify(site, counted_election)
    assert checked.returncode == 1
    assert "BROKEN: version 1: its content does not match its hash" in checked.stdout
