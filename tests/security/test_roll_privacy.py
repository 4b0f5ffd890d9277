"""No voter's name or birth date where anyone but the platform can read it."""

from __future__ import annotations

import json

from tallyflow import db


def test_recorded_registration_failures_lose_their_samples(postgres_url, services_settings,
                                                           new_election):
    election = new_election()
    failure = {"expectation": "expect_compound_columns_to_be_unique", "severity": "warning",
               "unexpected_count": 2, "sample": ["(ann lee, 1980-01-01, east)"],
               "summary": "no likely duplicate people: 2 of 3 rows, e.g. "
                          "(ann lee, 1980-01-01, east)"}
    tally = {**failure, "sample": ["mayor"], "summary": "totals add up: 1 of 9 rows, e.g. mayor"}
    with db.connection(postgres_url) as conn, conn.cursor() as cur:
        for suite, found in (("voters", failure), ("tally.totals", tally)):
            cur.execute(
                "insert into validation_runs (election_id, suite_name, is_passed, "
                "evaluated_expectations, failed_expectations, warned_expectations, row_count, "
                "failures) values (%s, %s, true, 9, 0, 1, 3, %s)",
                (election.election_id, suite, json.dumps([found])))
        migration = next(m for m in db.migrations() if m.version == 12)
        cur.execute(migration.sql)

    with db.connection(services_settings.site_database_url) as conn, conn.cursor() as cur:
        cur.execute("select suite_name, failures from validation_runs where election_id = %s "
                    "order by suite_name", (election.election_id,))
        runs = dict(cur.fetchall())
    assert runs["voters"] == [{**failure, "sample": [],
                               "summary": "no likely duplicate people: 2 of 3 rows"}]
    assert runs["tally.totals"] == [tally]  # aggregates' samples are no one's personal data
