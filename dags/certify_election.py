"""
### Certify election

Certifies an election once its closing time has passed. Every minute the DAG looks for an
election that is open past its closing time, or closed and not yet refused, and
certifies it; trigger it by hand with an `election_id` to certify that one (for example
again, once the cause of a refusal is fixed). `tallyflow certify --election ID` runs the
same steps from a terminal.

One task per step, so the grid shows where certification stands:

1. **close**: the election is `closed`; the casting API answers 409 and the tally rejects
   later ballots as `closed`.
2. **drain**: micro-batches run until every partition is read to its end; the final
   offsets are recorded.
3. **recount**: a Spark job counts every contest, per option and region, and the turnout,
   from the `ballots` and `checkins` ledgers alone.
4. **reconcile**: a Great Expectations suite checks recount = live aggregates cell by cell,
   ballots = check-ins, counted + rejected = events consumed per partition, turnout ≤
   registered, the roll unchanged since opening and the latest quality checks passing.
   Any discrepancy fails the task with a report (check, where, expected, found) and
   the election stays `closed`.
5. **tabulate**: winners per contest; ties broken by a lot seeded from the roll fingerprint.
6. **certify**: the certificate (JSON and HTML, with its SHA-256) is stored, the election
   becomes `certified` and the database refuses any change to its results.

Certifying a certified election does nothing and logs its certificate.
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, task


@task.short_circuit
def choose_election(params=None) -> str | None:
    """The election to certify; none (and every later step skipped) when there is
    nothing to do or it is already certified."""
    from tallyctl import tasks
    from tallyflow.certification.certificate import existing_certificate
    from tallyflow.elections.lifecycle import elections_to_certify

    url = tasks.resources().database_url
    election_id = params.get("election_id") or next(iter(elections_to_certify(url)), None)
    if election_id is None:
        tasks.say()("no election waits for certification")
        return None
    existing = existing_certificate(url, election_id)
    if existing is not None:
        tasks.say()(f"{election_id} is already certified ({existing['certified_at']}, "
                    f"sha256 {existing['certificate_sha256']}): nothing to do")
        return None
    return election_id


@task
def close(election_id: str) -> str:
    from tallyctl import tasks
    from tallyflow.elections.lifecycle import close_election

    with tasks.refusals_fail():
        return close_election(tasks.resources().database_url, election_id,
                              actor="airflow")["closes_at"]


@task
def drain(election_id: str) -> dict[str, int]:
    from jobs.certify_election import Services, drain_votes
    from tallyctl import tasks

    with tasks.refusals_fail(), tasks.spark_session() as spark:
        services = Services.from_resources(tasks.resources(), spark, say=tasks.say())
        offsets = drain_votes(services, election_id, actor="airflow")
    return offsets.to_json()


@task
def recount(election_id: str) -> dict:
    from jobs.certify_election import Services, recount_ledgers
    from tallyctl import tasks

    with tasks.refusals_fail(), tasks.spark_session() as spark:
        return recount_ledgers(Services.from_resources(tasks.resources(), spark),
                               election_id, actor="airflow")


@task
def reconcile(election_id: str, final_offsets: dict[str, int]) -> dict:
    from tallyctl import tasks
    from tallyflow.certification.reconcile import reconcile
    from tallyflow.votes.offsets import Offsets

    resources = tasks.resources()
    with tasks.refusals_fail():
        return reconcile(resources.database_url, election_id, resources.votes.name,
                         Offsets.from_json(final_offsets),
                         project_dir=resources.data_quality_dir, actor="airflow")


@task
def tabulate(election_id: str) -> list[dict]:
    from tallyctl import tasks
    from tallyflow.certification.tabulate import tabulate

    with tasks.refusals_fail():
        return tabulate(tasks.resources().database_url, election_id, actor="airflow")


@task
def certify(election_id: str, contests: list[dict], reconciliation: dict,
            final_offsets: dict[str, int]) -> dict:
    from tallyctl import tasks
    from tallyflow.certification.certificate import certify

    resources = tasks.resources()
    with tasks.refusals_fail():
        certified = certify(resources.database_url, election_id, contests=contests,
                            reconciliation=reconciliation, topic=resources.votes.name,
                            final_offsets=final_offsets, actor="airflow",
                            out_dir=resources.certificates_dir)
    tasks.say()(f"certified {election_id}: sha256 {certified['certificate_sha256']}")
    return {k: v for k, v in certified.items() if k != "certificate"}


@dag(
    schedule="* * * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    is_paused_upon_creation=False,
    dagrun_timeout=timedelta(minutes=30),
    default_args={"retries": 1, "retry_delay": timedelta(seconds=10)},
    tags=["elections", "certification", "spark"],
    doc_md=__doc__,
    params={
        "election_id": Param(None, type=["null", "string"], title="Election id",
                             description="Leave empty to certify the next election that "
                                         "has closed."),
    },
)
def certify_election():
    election_id = choose_election()
    closed = close(election_id)
    offsets = drain(election_id)
    closed >> offsets
    counted = recount(election_id)
    offsets >> counted
    reconciliation = reconcile(election_id, offsets)
    counted >> reconciliation
    contests = tabulate(election_id)
    reconciliation >> contests
    certify(election_id, contests, reconciliation, offsets)


certify_election()
