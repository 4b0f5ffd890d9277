"""The site's read-only role: it reads the aggregates and public election facts, nothing else."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import sql

from tallyflow import db

READABLE = {
    "parties", "regions", "precinct_regions", "contests", "contest_options", "region_ancestry",
    "region_roll_counts", "option_totals", "option_region_totals", "contest_ballot_totals",
    "turnout_by_region", "turnout_by_demographic", "ballots_per_minute", "rejected_totals",
    "result_quality", "pipeline_health", "validation_runs",
    "certificates", "component_health", "log_resets", "ranked_rounds", "published_snapshots",
    "option_method_totals", "contest_method_totals", "turnout_by_method",
    "option_vote_method_totals", "ballots_waiting",
}
# Rankings stay with the tally: the site reads only the rounds the tally runs over them.
PRIVATE = {"voters", "checkins", "ballots", "held_ballots", "rejected_events", "submissions",
           "ranking_totals",
           "ranking_contest_totals",
           "aggregate_cells",
           "quarantined_registrations", "election_audit_log", "consumer_offsets"}
PUBLIC_ELECTION_COLUMNS = ("election_id, title, description, opens_at, closes_at, status, "
                           "is_tally_embargoed, is_test, roll_fingerprint, roll_frozen_at")


@pytest.fixture(scope="module")
def relations(postgres_url) -> set[str]:
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select table_name from information_schema.tables "
                    "where table_schema = 'public'")
        return {row[0] for row in cur.fetchall()}


def _can(url: str, statement) -> bool:
    try:
        with db.connection(url) as conn, conn.cursor() as cur:
            cur.execute(statement)
            conn.rollback()
        return True
    except psycopg2.errors.InsufficientPrivilege:
        return False


def test_the_site_reads_with_its_own_role(services_settings, postgres_url):
    with db.connection(services_settings.site_database_url) as conn, conn.cursor() as cur:
        cur.execute("select current_user")
        assert cur.fetchone() == ("tallyflow_site",)


def test_privilege_matrix_every_relation(services_settings, postgres_url, relations):
    site = services_settings.site_database_url
    assert relations | {"elections"} >= READABLE | PRIVATE

    readable = {name for name in relations if _can(site, sql.SQL(
        "select * from public.{} limit 1").format(sql.Identifier(name)))}

    assert readable == READABLE
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        cur.execute("select relname from pg_class "
                    "inner join pg_namespace on pg_namespace.oid = pg_class.relnamespace "
                    "where nspname = 'public' and relkind in ('r', 'v', 'm') "
                    "and has_table_privilege('tallyflow_site', pg_class.oid, "
                    "'INSERT, UPDATE, DELETE, TRUNCATE, REFERENCES, TRIGGER')")
        # It writes nothing but the snapshots of what it publishes (append-only).
        assert cur.fetchall() == [("published_snapshots",)]
        cur.execute("select has_table_privilege('tallyflow_site', 'published_snapshots', "
                    "'UPDATE, DELETE, TRUNCATE')")
        assert cur.fetchone() == (False,)
    assert not _can(site, "delete from option_totals")
    assert not _can(site, "select * from elections")  # the definition is not for the site
    assert _can(site, sql.SQL("select {} from elections").format(
        sql.SQL(PUBLIC_ELECTION_COLUMNS)))
    assert not _can(site, "update elections set title = 'x'")
    assert not _can(site, "select credential_sha256 from voters")
