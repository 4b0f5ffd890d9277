"""Certification on Spark: every step in a row, as ``tallyflow certify`` runs them, and the
two steps that need Spark (the drain's tally and the recount) for the DAG's tasks.

The steps themselves live in ``tallyflow.certification``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jobs.recount_election import recount
from jobs.tally_votes import run_micro_batches
from tallyflow.certification.certificate import certify, existing_certificate
from tallyflow.certification.drain import drain
from tallyflow.certification.reconcile import reconcile
from tallyflow.certification.steps import step
from tallyflow.certification.tabulate import tabulate
from tallyflow.elections.lifecycle import close_election
from tallyflow.resources import Resources
from tallyflow.settings import Settings
from tallyflow.votes.secrecy import DEFAULT_BALLOT_GROUP


@dataclass
class Services:
    """What certification runs against: Postgres, the broker, and a Spark session."""

    database_url: str
    kafka_bootstrap: str
    topic: str
    partitions: list[int]
    spark: Any
    quality_dir: Path | None = None
    certificates_dir: Path | None = None
    drain_timeout: float = 900.0
    say: Callable[[str], None] = field(default=print)
    ballot_group: int = DEFAULT_BALLOT_GROUP  # for other open elections' ballots

    @classmethod
    def from_resources(cls, resources: Resources, spark: Any,
                       say: Callable[[str], None] = print) -> Services:
        """The configured services (``tallyflow.resources.Resources``) and a Spark session."""
        return cls(resources.database_url, resources.votes.bootstrap, resources.votes.name,
                   list(resources.votes.partition_ids), spark,
                   quality_dir=resources.data_quality_dir,
                   certificates_dir=resources.certificates_dir, say=say,
                   ballot_group=resources.ballot_group)

    @classmethod
    def from_settings(cls, settings: Settings, spark: Any,
                      say: Callable[[str], None] = print) -> Services:
        return cls.from_resources(Resources.from_settings(settings), spark, say)


def drain_votes(services: Services, election_id: str, *, actor: str) -> dict[int, int]:
    """:func:`drain`, tallying with micro-batches on ``services.spark``."""
    return drain(
        services.database_url, election_id, services.kafka_bootstrap, services.topic,
        services.partitions,
        lambda: run_micro_batches(services.spark, services.database_url,
                                  services.kafka_bootstrap, services.topic,
                                  services.partitions, seconds=services.drain_timeout,
                                  stop_when_idle=True, ballot_group=services.ballot_group,
                                  say=services.say),
        actor=actor, timeout=services.drain_timeout, say=services.say)


def recount_ledgers(services: Services, election_id: str, *, actor: str) -> dict[str, Any]:
    """The Spark recount (``jobs/recount_election.py``), recorded in the audit log."""
    with step(services.database_url, election_id, "recount", actor) as detail:
        counted = recount(services.spark, services.database_url, election_id)
        detail.update(vars(counted))
    return vars(counted)


def certify_election(services: Services, election_id: str, *, actor: str) -> dict[str, Any]:
    """Every step in a row, as ``tallyflow certify`` runs them. Returns the certificate
    record; a certified election returns its existing certificate unchanged."""
    url, say = services.database_url, services.say
    existing = existing_certificate(url, election_id)
    if existing is not None:
        say(f"{election_id} is already certified: {existing['certificate_sha256']}")
        return {"election_id": election_id, "already_certified": True,
                "certificate_sha256": existing["certificate_sha256"],
                "certified_at": existing["certified_at"].isoformat()}
    closing = close_election(url, election_id, actor=actor)
    say(f"closed {election_id} at {closing['closes_at']}")
    final_offsets = drain_votes(services, election_id, actor=actor)
    say(f"drained; final offsets {final_offsets}")
    counted = recount_ledgers(services, election_id, actor=actor)
    say(f"recounted {counted['ballots']:,} ballots and {counted['checkins']:,} check-ins "
        f"in {counted['seconds']:.1f} s")
    reconciliation = reconcile(url, election_id, services.topic, final_offsets,
                               project_dir=services.quality_dir, actor=actor)
    say("reconciled: every check holds")
    contests = tabulate(url, election_id, actor=actor)
    certified = certify(url, election_id, contests=contests,
                        reconciliation=reconciliation, topic=services.topic,
                        final_offsets=final_offsets, actor=actor,
                        out_dir=services.certificates_dir)
    say(f"certified {election_id}: sha256 {certified['certificate_sha256']}")
    return certified
