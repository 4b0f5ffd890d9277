"""The resources are wired from the settings once, and share the process's pool."""

from __future__ import annotations

import pytest

from tallyflow import db
from tallyflow.resources import Resources, VotesTopic
from tallyflow.settings import Settings


@pytest.mark.fast
def test_resources_come_from_the_settings_and_share_the_pool(tmp_path):
    settings = Settings.from_env({
        "TALLYFLOW_HOME": str(tmp_path), "TALLYFLOW_VOTES_PARTITIONS": "3",
        "TALLYFLOW_VOTES_TOPIC": "votes.test", "TALLYFLOW_BALLOT_GROUP": "7",
        "TALLYFLOW_DATABASE_URL": "postgresql://app:pw@db.example:5432/elections",
        "TALLYFLOW_KAFKA_BOOTSTRAP": "kafka-1:9092", "TALLYFLOW_SPARK_REMOTE": "sc://spark:15002",
    })

    resources = Resources.from_settings(settings)

    assert resources.votes == VotesTopic("kafka-1:9092", "votes.test", (0, 1, 2))
    assert resources.database_url == settings.database_url
    assert resources.database is db.database(settings.database_url)  # one pool per URL
    assert resources.spark_remote == "sc://spark:15002"
    assert (resources.data_quality_dir, resources.certificates_dir, resources.ballot_group) \
        == (settings.data_quality_dir, settings.certificates_dir, 7)
