"""Topic management on the session's real Kafka-protocol broker."""

from __future__ import annotations

import uuid

from tallyflow.kafka import ensure_topics, topic_partitions


def test_ensure_topics_creates_missing_topics_once(kafka_bootstrap):
    name = f"test.topics.{uuid.uuid4().hex[:8]}"

    first = ensure_topics(kafka_bootstrap, {name: 3})
    second = ensure_topics(kafka_bootstrap, {name: 3})

    assert first == [name]
    assert second == []
    assert topic_partitions(kafka_bootstrap)[name] == 3


def test_the_votes_topic_exists_after_start(kafka_bootstrap, services_settings):
    topics = topic_partitions(kafka_bootstrap)

    assert topics[services_settings.votes_topic] == services_settings.votes_partitions
