"""The audit trail is append-only and chained (sql/migrations/0022): no runtime role can
rewrite it, and an entry the owner edits or removes shows in `tallyflow audit`."""

from __future__ import annotations

import json

import psycopg2
import pytest

from tallyctl.cli import main
from tallyflow import db
from tallyflow.elections import lifecycle
from tallyflow.elections.trail import audit_trail
from tests.conftest import open_for_voting


@pytest.fixture
def audited_election(postgres_url, new_election, tmp_path) -> str:
    election = new_election()
    open_for_voting(postgres_url, election.election_id, 20, 3, tmp_path)
    return election.election_id


def test_every_lifecycle_step_is_chained_and_the_cli_prints_it(
        postgres_url, services_env, audited_election, capsys):
    trail = audit_trail(postgres_url, audited_election)
    actions = [e["action"] for e in trail.entries]
    assert {"create", "seed", "scheduled", "open"} <= set(actions), actions
    assert trail.breaks == []
    assert trail.entries[0]["previous_sha256"] is None
    assert all(len(e["entry_sha256"]) == 64 for e in trail.entries)

    assert main(["audit", audited_election]) == 0
    printed = capsys.readouterr().out
    assert "the chain of digests is intact" in printed and "open" in printed
    assert main(["audit", audited_election, "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["intact"] and len(document["entries"]) == len(actions)
    assert main(["audit", "no-such-election"]) == 2


@pytest.mark.parametrize("statement", [
    "update election_audit_log set actor = 'mallory' where election_id = %(e)s",
    "delete from election_audit_log where election_id = %(e)s",
    "truncate election_audit_log",
])
def test_no_runtime_role_can_rewrite_the_audit_trail(services_settings, audited_election,
                                                     statement):
    for role in ("tallyflow_app", "tallyflow_casting", "tallyflow_site"):
        url = services_settings.role_database_url(role)
        with pytest.raises(psycopg2.Error) as refused, db.connection(url) as conn, \
                conn.cursor() as cur:
            cur.execute(statement, {"e": audited_election})
        assert refused.value.pgcode in ("42501", "P0001"), (role, refused.value)


def test_an_entry_edited_or_removed_by_the_owner_shows(postgres_url, services_settings,
                                                       audited_election, capsys):
    owner = services_settings.owner_database_url
    with db.connection(owner) as conn, conn.cursor() as cur:
        # The owner is exempt from the trigger (as it is from the lock): what it changes
        # still shows, because each digest is over what its entry records.
        cur.execute("update election_audit_log set actor = 'mallory' where audit_id = ("
                    "select min(audit_id) from election_audit_log where election_id = %s)",
                    (audited_election,))
    edited = audit_trail(postgres_url, audited_election)
    assert len(edited.breaks) == 1 and "is not as it was recorded" in edited.breaks[0]

    with db.connection(owner) as conn, conn.cursor() as cur:
        cur.execute("delete from election_audit_log where audit_id = ("
                    "select min(audit_id) from election_audit_log where election_id = %s)",
                    (audited_election,))
    removed = audit_trail(postgres_url, audited_election)
    assert [b for b in removed.breaks if "does not follow the entry before it" in b]
    assert main(["audit", audited_election]) == 1
    assert "THE CHAIN IS BROKEN" in capsys.readouterr().out


def test_a_new_entry_cannot_choose_its_own_digests(postgres_url, audited_election):
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("insert into election_audit_log (election_id, action, actor, outcome, "
                    "previous_sha256, entry_sha256) values (%s, 'note', 'test', 'ok', "
                    "'forged', 'forged')", (audited_election,))
    lifecycle.close_election(postgres_url, audited_election, actor="test")
    trail = audit_trail(postgres_url, audited_election)
    assert trail.breaks == [] and "forged" not in {e["entry_sha256"] for e in trail.entries}
