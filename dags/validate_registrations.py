"""
### Validate registrations

Runs the Great Expectations suites on the registrations of elections that have not opened
yet: parties, candidates, regions and the voter roll (unique ids, mandatory fields, voting
age on election day, known regions and parties, likely duplicate people, registered counts
per region). Each run is recorded in `validation_runs` and published as Data Docs; the task
log links the report.

It runs whenever a roll changes (the `tallyflow_registrations` asset) and on demand: give an
`election_id` to check one election, or leave it empty to check every election whose roll
changed since its last check. An election whose latest check failed cannot open.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Asset, Param, dag, task

from tallyflow.registrations import REGISTRATIONS_ASSET


@dag(
    schedule=[Asset(REGISTRATIONS_ASSET)],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=30),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=10)},
    tags=["registrations", "data-quality"],
    doc_md=__doc__,
    params={
        "election_id": Param(None, type=["null", "string"], title="Election id",
                             description="Empty: every election whose roll changed since "
                                         "its last check."),
    },
)
def validate_registrations():
    @task
    def elections_to_check(params=None) -> list[str]:
        from tallyflow.registrations.quality import elections_needing_validation
        from tallyflow.settings import get_settings

        if params.get("election_id"):
            return [params["election_id"]]
        return elections_needing_validation(get_settings().database_url)

    @task
    def validate(election_ids: list[str]) -> dict:
        from tallyflow.registrations.quality import RegistrationsInvalid, check_registrations
        from tallyflow.settings import get_settings

        settings = get_settings()
        failed, reports = [], {}
        for election_id in election_ids:
            try:
                reports[election_id] = check_registrations(settings, election_id)
            except RegistrationsInvalid as err:
                failed.append(str(err))
        if failed:
            raise ValueError("\n".join(failed))
        return reports

    validate(elections_to_check())


validate_registrations()
