"""PostgreSQL access: connections, numbered migrations and named queries from ``sql/``."""

from __future__ import annotations

import atexit
import contextlib
import functools
import hashlib
import os
import re
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import psycopg2.extensions
from psycopg2 import sql

SQL_DIR = Path(__file__).resolve().parent.parent / "sql"
MIGRATIONS_DIR = SQL_DIR / "migrations"
QUERIES_DIR = SQL_DIR / "queries"

_MIGRATION_NAME = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")
# Any fixed number works; it only has to be the same for every process applying migrations.
_MIGRATION_LOCK_ID = 7_318_024


def connect(url: str, *, autocommit: bool = False) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(url, application_name="tallyflow", connect_timeout=10)
    conn.autocommit = autocommit
    return conn


@contextlib.contextmanager
def connection(url: str, *, autocommit: bool = False) -> Iterator[psycopg2.extensions.connection]:
    """A connection that commits on success and rolls back on error.

    Connections are pooled per process (:class:`Database`): one whose block ended without
    an error goes back, its session discarded; one whose block raised is closed.
    """
    database = _databases.get(url)
    with database.connection(autocommit=autocommit) as conn:
        yield conn


class Database:
    """One PostgreSQL database, with up to ``idle_limit`` idle connections kept for reuse.

    A borrowed connection is pinged first (the server may have restarted since it was
    returned); a returned one runs ``DISCARD ALL``, so it keeps no session settings,
    temporary tables or advisory locks, as if it had been closed. A process that forks
    starts with an empty pool of its own.
    """

    def __init__(self, url: str, idle_limit: int = 4) -> None:
        self.url, self.idle_limit = url, idle_limit
        self._idle: list[psycopg2.extensions.connection] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    @contextlib.contextmanager
    def connection(self, *, autocommit: bool = False
                   ) -> Iterator[psycopg2.extensions.connection]:
        conn = self._borrow()
        conn.autocommit = autocommit
        try:
            if autocommit:
                yield conn  # psycopg2's `with conn` would open a transaction even here
            else:
                with conn:
                    yield conn
        except BaseException:
            conn.close()
            raise
        self._give_back(conn)

    def _borrow(self) -> psycopg2.extensions.connection:
        while True:
            with self._lock:
                if self._pid != os.getpid():  # forked: the parent's connections are not ours
                    self._idle, self._pid = [], os.getpid()
                conn = self._idle.pop() if self._idle else None
            if conn is None:
                return connect(self.url, autocommit=True)
            try:
                with conn.cursor() as cur:
                    cur.execute(query("ping"))
                return conn
            except psycopg2.Error:
                conn.close()  # the server went away since; try the next one

    def _give_back(self, conn: psycopg2.extensions.connection) -> None:
        try:  # kept in autocommit, so the next ping opens no transaction
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute(query("discard_session"))
            conn.set_session(isolation_level="DEFAULT", readonly="DEFAULT",
                             deferrable="DEFAULT")
        except psycopg2.Error:
            conn.close()
            return
        with self._lock:
            if self._pid == os.getpid() and len(self._idle) < self.idle_limit:
                self._idle.append(conn)
                return
        conn.close()

    def close(self) -> None:
        """Close the idle connections (borrowed ones close when their block ends)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


class _Databases:
    """The process's pools, one per database URL."""

    def __init__(self) -> None:
        self._pools: dict[str, Database] = {}
        self._lock = threading.Lock()

    def get(self, url: str) -> Database:
        with self._lock:
            if url not in self._pools:
                self._pools[url] = Database(url)
            return self._pools[url]

    def close(self) -> None:
        with self._lock:
            pools, self._pools = list(self._pools.values()), {}
        for pool in pools:
            pool.close()


_databases = _Databases()
atexit.register(_databases.close)


def database(url: str) -> Database:
    """The process's pool for ``url`` (the one ``connection(url)`` borrows from)."""
    return _databases.get(url)


def close_pools() -> None:
    """Close every idle pooled connection of this process (before a database is stopped or
    dropped, say)."""
    _databases.close()


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()


def migrations() -> list[Migration]:
    """Every migration file in version order; names must be ``NNNN_snake_case.sql``."""
    found = []
    for path in sorted(MIGRATIONS_DIR.glob("*.sql")):
        match = _MIGRATION_NAME.match(path.name)
        if not match:
            raise ValueError(f"{path.name}: migration files are named NNNN_snake_case.sql")
        found.append(Migration(int(match.group(1)), path.stem, path.read_text()))
    versions = [m.version for m in found]
    if len(set(versions)) != len(versions):
        raise ValueError(f"two migrations share a version number in {MIGRATIONS_DIR}")
    return found


def migrate(url: str) -> list[str]:
    """Apply pending migrations, each in its own transaction. Returns the names applied.

    A migration already applied is skipped; one whose file changed since is an error,
    because the database no longer matches the repository.
    """
    applied = []
    with connection(url) as conn, conn.cursor() as cur:
        cur.execute(query("lock_migrations"), {"lock_id": _MIGRATION_LOCK_ID})
        cur.execute(query("create_schema_migrations"))
        cur.execute(query("applied_migrations"))
        done = dict(cur.fetchall())
        for migration in migrations():
            if migration.version in done:
                if done[migration.version] != migration.checksum:
                    raise RuntimeError(
                        f"migration {migration.name} was changed after it was applied; "
                        f"add a new migration instead"
                    )
                continue
            cur.execute(migration.sql)
            cur.execute(query("record_migration"), {"version": migration.version,
                                                    "name": migration.name,
                                                    "checksum": migration.checksum})
            applied.append(migration.name)
    return applied


def ensure_database(url: str, database: str, owner: str | None = None) -> bool:
    """Create ``database`` on the server of ``url`` if missing, owned by ``owner`` (by the
    connecting role when None). Returns True if created."""
    with contextlib.closing(connect(url, autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute(query("database_exists"), {"database": database})
        if cur.fetchone():
            return False
        statement = sql.SQL("create database {}").format(sql.Identifier(database))
        if owner is not None:
            statement += sql.SQL(" owner {}").format(sql.Identifier(owner))
        cur.execute(statement)
        return True


def ensure_login_role(url: str, role: str, password: str) -> None:
    """A role that logs in with ``password`` and may do nothing beyond what is granted to it
    or what it owns: not a superuser, no CREATEDB, CREATEROLE or replication."""
    with contextlib.closing(connect(url, autocommit=True)) as conn, conn.cursor() as cur:
        cur.execute(query("role_exists"), {"role": role})
        verb = "alter" if cur.fetchone() else "create"
        cur.execute(sql.SQL(
            "{} role {} with login nosuperuser nocreatedb nocreaterole noreplication "
            "password {}").format(sql.SQL(verb), sql.Identifier(role), sql.Literal(password)))


@functools.cache
def query(name: str) -> str:
    """The text of ``sql/queries/<name>.sql``."""
    path = QUERIES_DIR / f"{name}.sql"
    if not path.is_file():
        raise KeyError(f"no query named {name!r} in {QUERIES_DIR}")
    return path.read_text()


def rows_as_dicts(cur, name: str, params: dict) -> list[dict]:
    """The rows of the named query as dicts of column name to value (a plain cursor and
    ``dict(zip())``: several times faster than a dict cursor on thousands of rows)."""
    cur.execute(query(name), params)
    names = [column.name for column in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def enable_role(url: str, role: str, password: str) -> None:
    """Let one of Tallyflow's roles (created by the migrations) log in with ``password``."""
    with connection(url, autocommit=True) as conn, conn.cursor() as cur:
        cur.execute(sql.SQL("alter role {} with login password {}").format(
            sql.Identifier(role), sql.Literal(password)))
