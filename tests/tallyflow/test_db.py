"""Migrations and named queries, on the session's real PostgreSQL."""

from __future__ import annotations

import pytest

from tallyflow import db


def _tables(url: str) -> set[str]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("select tablename from pg_tables where schemaname = 'public'")
        return {name for (name,) in cur.fetchall()}


def test_migrations_apply_on_an_empty_database_then_reapply_as_a_no_op(empty_database):
    every = [m.name for m in db.migrations()]

    first = db.migrate(empty_database)
    tables_after_first = _tables(empty_database)
    second = db.migrate(empty_database)

    assert first == every
    assert "0001_component_health" in first
    assert {"schema_migrations", "component_health"} <= tables_after_first
    assert second == []
    assert _tables(empty_database) == tables_after_first


def test_a_migration_edited_after_it_was_applied_is_refused(empty_database):
    db.migrate(empty_database)
    with db.connection(empty_database) as conn, conn.cursor() as cur:
        cur.execute("update schema_migrations set checksum = 'edited' where version = 1")

    with pytest.raises(RuntimeError, match="0001_component_health was changed after it was applied"):
        db.migrate(empty_database)


def test_migration_files_are_idempotent_sql(empty_database):
    """Each file can run twice by itself (as when schema_migrations was lost)."""
    with db.connection(empty_database) as conn, conn.cursor() as cur:
        for migration in db.migrations():
            cur.execute(migration.sql)
            cur.execute(migration.sql)


@pytest.mark.fast
def test_named_queries_are_loaded_by_name():
    assert "from component_health" in db.query("latest_component_health")
    with pytest.raises(KeyError, match="no query named 'nope'"):
        db.query("nope")


def test_ensure_database_creates_once(postgres_url):
    from tallyflow.settings import with_database

    server = with_database(postgres_url, "postgres")
    assert db.ensure_database(server, "tallyflow") is False
