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


def _backend(url: str, **kwargs) -> int:
    with db.connection(url, **kwargs) as conn, conn.cursor() as cur:
        cur.execute("select pg_backend_pid()")
        return cur.fetchone()[0]


def test_connections_are_reused_and_forget_their_session(postgres_url):
    db.close_pools()
    first = _backend(postgres_url)
    assert _backend(postgres_url, autocommit=True) == first  # one connection, lent twice

    with db.connection(postgres_url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute("set statement_timeout = 1234")
        cur.execute("select pg_advisory_lock(424242)")
        conn.set_session(readonly=True)
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("show statement_timeout")
        assert cur.fetchone() != ("1234ms",)
        assert conn.readonly is None and not conn.autocommit
        cur.execute("create temporary table pooled_scratch (x int)")  # writable again
    # The advisory lock went with the session, as it would have with a closed connection.
    other = db.connect(postgres_url, autocommit=True)
    try:
        with other.cursor() as cur:
            cur.execute("select pg_try_advisory_lock(424242)")
            assert cur.fetchone() == (True,)
            cur.execute("select pg_advisory_unlock(424242)")
    finally:
        other.close()


def test_a_block_that_fails_closes_its_connection_and_commits_nothing(postgres_url):
    db.close_pools()
    before = _backend(postgres_url)
    with pytest.raises(ZeroDivisionError), db.connection(postgres_url) as conn, \
            conn.cursor() as cur:
        cur.execute("select pg_backend_pid()")
        assert cur.fetchone()[0] == before
        cur.execute("create table pooled_rolled_back (x int)")
        1 / 0  # noqa: B018
    assert _backend(postgres_url) != before
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('pooled_rolled_back')")
        assert cur.fetchone() == (None,)


def test_a_pooled_connection_the_server_dropped_is_replaced_unnoticed(postgres_url):
    db.close_pools()
    dropped = _backend(postgres_url)
    killer = db.connect(postgres_url, autocommit=True)
    try:
        with killer.cursor() as cur:
            cur.execute("select pg_terminate_backend(%s)", (dropped,))
            assert cur.fetchone() == (True,)
    finally:
        killer.close()

    assert _backend(postgres_url) != dropped


def test_a_forked_process_opens_connections_of_its_own(postgres_url):
    import multiprocessing

    db.close_pools()
    parents = _backend(postgres_url)
    with multiprocessing.get_context("fork").Pool(1) as pool:
        childs = pool.apply(_backend, (postgres_url,))
    assert childs != parents
    assert _backend(postgres_url) == parents  # the parent's connection is untouched
