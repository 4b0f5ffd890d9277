"""The run-time database roles: what each may do, and that none can get around the
certification lock (sql/migrations/0011_runtime_roles.sql)."""

from __future__ import annotations

import psycopg2
import pytest

from tallyflow import db

PRIVILEGES = ("SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE")
# Columns the casting API's role may use, and how (everything else: nothing).
CASTING = {
    ("elections", "SELECT"): {"election_id", "status", "opens_at", "closes_at"},
    # A voter's precinct and party: which contests are on their ballot (0018), judged
    # against the ballot layout the tally reads (0019).
    ("voters", "SELECT"): {"election_id", "credential_sha256", "region_id", "party_id"},
    ("contests", "SELECT"): {"election_id", "contest_id", "district_region_id", "party_id",
                             "kind", "seats", "ballot_order"},
    ("contest_options", "SELECT"): {"election_id", "contest_id", "option_id", "ballot_order"},
    ("regions", "SELECT"): {"election_id", "region_id", "parent_region_id"},
    ("submissions", "INSERT"): {"event_id", "election_id", "receipt", "payload_sha256",
                                "received_at", "payload", "topic"},
    ("submissions", "SELECT"): {"event_id", "election_id", "receipt", "payload_sha256",
                                "received_at", "settled_at", "publish_attempts"},
    ("submissions", "UPDATE"): {"published_partition", "published_offset", "published_at",
                                "publish_attempts"},
    ("checkins", "SELECT"): {"receipt", "election_id", "checked_in_at"},
    ("rejected_events", "SELECT"): {"receipt", "election_id", "reason", "kafka_offset"},
    # A ballot waiting for its group: that it waits, never its voter or choices.
    ("held_ballots", "SELECT"): {"receipt", "election_id"},
}


@pytest.fixture(scope="module")
def tables(postgres_url) -> list[str]:
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select tablename from pg_tables where schemaname = 'public' "
                    "order by tablename")
        return [row[0] for row in cur.fetchall()]


def _privileges(url: str, role: str, tables: list[str]) -> dict[str, set[str]]:
    with db.connection(url) as conn, conn.cursor() as cur:
        found = {}
        for table in tables:
            cur.execute("select p from unnest(%s::text[]) as p "
                        "where has_table_privilege(%s, %s, p)",
                        (list(PRIVILEGES), role, f"public.{table}"))
            found[table] = {row[0] for row in cur.fetchall()}
        return found


def _columns(url: str, role: str, tables: list[str]) -> dict[tuple[str, str], set[str]]:
    with db.connection(url) as conn, conn.cursor() as cur:
        cur.execute("""
            select table_name, privilege, column_name
            from information_schema.columns
            cross join unnest(array['SELECT', 'INSERT', 'UPDATE']) as privilege
            where table_schema = 'public' and table_name = any(%s)
              and has_column_privilege(%s, format('public.%%I', table_name), column_name,
                                       privilege)""", (tables, role))
        found: dict[tuple[str, str], set[str]] = {}
        for table, privilege, column in cur.fetchall():
            found.setdefault((table, privilege), set()).add(column)
        return found


def test_no_runtime_role_is_a_superuser_or_owns_anything(postgres_url):
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select rolname, rolsuper, rolcreaterole, rolcreatedb, rolbypassrls "
                    "from pg_roles where rolname in "
                    "('tallyflow_app', 'tallyflow_casting', 'tallyflow_site') order by 1")
        roles = cur.fetchall()
        cur.execute("select count(*) from pg_class c join pg_roles r on r.oid = c.relowner "
                    "where r.rolname in ('tallyflow_app', 'tallyflow_casting', "
                    "'tallyflow_site')")
        owned = cur.fetchone()[0]
    assert roles == [(name, False, False, False, False) for name in
                     ("tallyflow_app", "tallyflow_casting", "tallyflow_site")]
    assert owned == 0


def test_the_app_role_writes_rows_of_every_table_and_truncates_none(postgres_url, tables):
    found = _privileges(postgres_url, "tallyflow_app", tables)
    expected = {table: {"SELECT", "INSERT", "UPDATE", "DELETE"} for table in tables}
    expected["schema_migrations"] = {"SELECT"}
    expected["published_snapshots"] = {"SELECT", "INSERT"}  # what was published stays
    expected["election_audit_log"] = {"SELECT", "INSERT"}  # the audit trail only grows
    assert found == expected


def test_the_casting_role_sees_only_what_a_ballot_and_a_receipt_need(postgres_url, tables):
    assert _privileges(postgres_url, "tallyflow_casting", tables) == {
        table: set() for table in tables}  # no table-wide privilege anywhere
    assert _columns(postgres_url, "tallyflow_casting", tables) == CASTING


@pytest.mark.parametrize("attempt", [
    "set session_replication_role = replica",
    "alter table certificates disable trigger user",
    "alter table option_totals disable trigger all",
    "truncate ballots",
    "truncate certificates cascade",
    "alter table ballots owner to tallyflow_app",
    "drop table certificates",
    "create table public.mine (x int)",
    "alter role tallyflow_app superuser",
])
@pytest.mark.parametrize("role", ["app", "casting"])
def test_no_runtime_role_can_get_around_the_certification_lock(services_settings,
                                                              postgres_url, role, attempt):
    url = services_settings.role_database_url(f"tallyflow_{role}")
    with pytest.raises(psycopg2.Error) as refused, db.connection(url) as conn, \
            conn.cursor() as cur:
        cur.execute(attempt)
    assert refused.value.pgcode in ("42501", "42809"), refused.value  # insufficient privilege


def test_the_casting_role_cannot_read_a_ballot_or_the_roll(services_settings, postgres_url):
    url = services_settings.role_database_url("tallyflow_casting")
    for statement in ("select * from ballots limit 1", "select voter_id from checkins limit 1",
                      "select full_name from voters limit 1", "select payload from submissions",
                      "select raw_payload from rejected_events limit 1"):
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), \
                db.connection(url) as conn, conn.cursor() as cur:
            cur.execute(statement)


def test_init_on_an_external_database_gives_airflow_a_role_of_its_own(
        services_settings, postgres_url, kafka_bootstrap, tmp_path):
    """As docker-compose's tallyflow-init runs it: the owner's URL, Airflow's metadata URL
    naming a role of its own, and the runtime roles' passwords in files."""
    import shutil
    import uuid
    from urllib.parse import urlsplit

    from tallyctl.stack import Stack
    from tallyflow.settings import Settings, database_name, with_database

    home = tmp_path / "init"
    shutil.copytree(services_settings.secrets_dir, home / "secrets")  # the same passwords
    name = f"airflow_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(postgres_url)
    airflow_url = f"postgresql://{name}:s3cret-{name}@{parts.hostname}:{parts.port}/{name}"
    settings = Settings.from_env({
        "TALLYFLOW_HOME": str(home), "TALLYFLOW_DATABASE_URL": postgres_url,
        "TALLYFLOW_AIRFLOW_DATABASE_URL": airflow_url,
        "TALLYFLOW_KAFKA_BOOTSTRAP": kafka_bootstrap,
    })
    try:
        Stack(settings, say=lambda _m: None).prepare_database(None)

        with db.connection(airflow_url) as conn, conn.cursor() as cur:
            cur.execute("create table airflow_like (id int)")  # it owns its database
            cur.execute("select rolsuper, rolcreatedb, rolcreaterole from pg_roles "
                        "where rolname = current_user")
            assert cur.fetchone() == (False, False, False)
        with pytest.raises(psycopg2.errors.InsufficientPrivilege), \
                db.connection(with_database(airflow_url, database_name(postgres_url))) \
                as conn, conn.cursor() as cur:
            cur.execute("select count(*) from ballots")
        app = settings.role_database_url("tallyflow_app")
        with db.connection(app) as conn, conn.cursor() as cur:
            cur.execute("select current_user")
            assert cur.fetchone() == ("tallyflow_app",)
    finally:
        with db.connection(postgres_url, autocommit=True) as conn, conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}" with (force)')
            cur.execute(f'drop role if exists "{name}"')
