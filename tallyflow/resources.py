"""What a process works with, built from the settings in one place: the database (pooled
connections), the votes topic and its partitions, where Spark listens, and directories.

``Resources.from_settings(get_settings())`` is the one wiring; the CLI, the DAGs' tasks
and the jobs' entry points take what they need from it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tallyflow import db
from tallyflow.settings import Settings


@dataclass(frozen=True)
class VotesTopic:
    bootstrap: str
    name: str
    partition_ids: tuple[int, ...]  # as configured; readers also find partitions added later


@dataclass(frozen=True)
class Resources:
    database: db.Database
    votes: VotesTopic
    spark_remote: str  # a Spark Connect URL (``jobs.spark.session`` opens sessions to it)
    home: Path
    data_quality_dir: Path
    certificates_dir: Path
    ballot_group: int

    @property
    def database_url(self) -> str:
        return self.database.url

    @classmethod
    def from_settings(cls, settings: Settings) -> Resources:
        return cls(
            database=db.database(settings.database_url),
            votes=VotesTopic(settings.kafka_bootstrap, settings.votes_topic,
                             tuple(settings.votes_partition_ids)),
            spark_remote=settings.spark_remote,
            home=settings.home,
            data_quality_dir=settings.data_quality_dir,
            certificates_dir=settings.certificates_dir,
            ballot_group=settings.ballot_group,
        )
