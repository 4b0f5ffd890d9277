"""Settings: typed values, safe defaults, and one clear message per bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tallyflow.settings import Settings, SettingsError, redact, with_database


def test_defaults_are_local_and_embedded(tmp_path: Path):
    settings = Settings.from_env({"TALLYFLOW_HOME": str(tmp_path)})

    assert settings.home == tmp_path
    assert (settings.embeds_postgres, settings.embeds_kafka, settings.embeds_spark) == (
        True, True, True,
    )
    assert settings.kafka_bootstrap == "127.0.0.1:19092"
    assert settings.spark_remote == "sc://127.0.0.1:15002"
    assert settings.airflow_url == "http://127.0.0.1:8080"
    assert settings.site_url == "http://127.0.0.1:8050"
    assert settings.votes_topic == "tallyflow.votes"
    assert settings.votes_partitions == 4


@pytest.mark.fast
def test_embedded_database_url_uses_the_generated_password(tmp_path: Path):
    settings = Settings.from_env({"TALLYFLOW_HOME": str(tmp_path), "TALLYFLOW_POSTGRES_PORT": "6000"})
    settings.secrets_dir.mkdir(parents=True)
    settings.postgres_password_file.write_text("s3cret-word\n")

    assert settings.database_url == "postgresql://tallyflow:s3cret-word@127.0.0.1:6000/tallyflow"
    assert settings.airflow_database_url == "postgresql://tallyflow:s3cret-word@127.0.0.1:6000/airflow"


@pytest.mark.fast
def test_the_site_reads_as_its_own_role(tmp_path: Path):
    settings = Settings.from_env({"TALLYFLOW_HOME": str(tmp_path),
                                  "TALLYFLOW_DATABASE_URL": "postgresql://owner:pw@db:5432/tf"})
    settings.secrets_dir.mkdir(parents=True)

    with pytest.raises(SettingsError, match=r"TALLYFLOW_SITE_DATABASE_URL is not set .* init"):
        _ = settings.site_database_url
    settings.site_password_file.write_text("a/b@c\n")
    assert settings.site_database_url == "postgresql://tallyflow_site:a%2Fb%40c@db:5432/tf"
    chosen = Settings.from_env({"TALLYFLOW_SITE_DATABASE_URL": "postgresql://r:p@h:1/tf"})
    assert chosen.site_database_url == "postgresql://r:p@h:1/tf"


@pytest.mark.fast
def test_embedded_database_url_before_first_up_says_what_to_do(tmp_path: Path):
    settings = Settings.from_env({"TALLYFLOW_HOME": str(tmp_path)})

    with pytest.raises(SettingsError, match=r"TALLYFLOW_DATABASE_URL is not set .* `tallyflow up`"):
        _ = settings.database_url


@pytest.mark.fast
def test_external_components_are_chosen_by_url():
    settings = Settings.from_env(
        {
            "TALLYFLOW_DATABASE_URL": "postgresql://app:pw@db.example:5432/elections",
            "TALLYFLOW_KAFKA_BOOTSTRAP": "kafka-1:9092, kafka-2:9092",
            "TALLYFLOW_SPARK_REMOTE": "sc://spark:15002",
        }
    )

    assert (settings.embeds_postgres, settings.embeds_kafka, settings.embeds_spark) == (
        False, False, False,
    )
    assert settings.database_url == "postgresql://app:pw@db.example:5432/elections"
    assert settings.airflow_database_url == "postgresql://app:pw@db.example:5432/airflow"
    assert settings.kafka_bootstrap == "kafka-1:9092,kafka-2:9092"
    assert settings.spark_remote == "sc://spark:15002"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"TALLYFLOW_DATABASE_URL": "not a url"}, "TALLYFLOW_DATABASE_URL='not a url' is not a PostgreSQL URL"),
        ({"TALLYFLOW_DATABASE_URL": "mysql://u:p@h/db"}, "TALLYFLOW_DATABASE_URL='mysql://u:***@h/db' is not a PostgreSQL URL"),
        ({"TALLYFLOW_DATABASE_URL": "postgresql://u:p@h:99999/db"}, "is not a PostgreSQL URL"),
        ({"TALLYFLOW_DATABASE_URL": "postgresql://u@h:5432"}, "TALLYFLOW_DATABASE_URL='postgresql://u@h:5432' names no database"),
        ({"TALLYFLOW_KAFKA_BOOTSTRAP": "localhost"}, "TALLYFLOW_KAFKA_BOOTSTRAP='localhost' is not a Kafka bootstrap list"),
        ({"TALLYFLOW_SPARK_REMOTE": "http://spark:15002"}, "TALLYFLOW_SPARK_REMOTE='http://spark:15002' is not a Spark Connect URL"),
        ({"TALLYFLOW_POSTGRES_PORT": "five"}, "TALLYFLOW_POSTGRES_PORT='five' is not a whole number"),
        ({"TALLYFLOW_SITE_PORT": "70000"}, "TALLYFLOW_SITE_PORT='70000' is out of range: expected 1..65535"),
        ({"TALLYFLOW_VOTES_PARTITIONS": "0"}, "TALLYFLOW_VOTES_PARTITIONS='0' is out of range"),
        ({"TALLYFLOW_VOTES_TOPIC": "votes/2026"}, "TALLYFLOW_VOTES_TOPIC='votes/2026' is not a valid Kafka topic name"),
        ({"TALLYFLOW_SPARK_DRIVER_MEMORY": "lots"}, "TALLYFLOW_SPARK_DRIVER_MEMORY='lots' is not a JVM memory size"),
        ({"TALLYFLOW_SITE_POLL_MS": "10"}, "TALLYFLOW_SITE_POLL_MS='10' is out of range: expected 250..600000"),
        ({"TALLYFLOW_SMALL_CELL": "ten"}, "TALLYFLOW_SMALL_CELL='ten' is not a whole number"),
        ({"TALLYFLOW_TOO_CLOSE_POINTS": "close"}, "TALLYFLOW_TOO_CLOSE_POINTS='close' is not a number"),
        ({"TALLYFLOW_TOO_CLOSE_POINTS": "101"}, "TALLYFLOW_TOO_CLOSE_POINTS='101' is out of range: expected 0..100"),
    ],
)
@pytest.mark.fast
def test_bad_values_name_the_setting(env: dict, message: str):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)

    assert message in str(raised.value)


@pytest.mark.fast
def test_password_never_appears_in_the_error():
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({"TALLYFLOW_DATABASE_URL": "mysql://admin:hunter2hunter2@db/x"})

    assert "hunter2hunter2" not in str(raised.value)


@pytest.mark.fast
def test_java_home_without_java_is_named(tmp_path: Path):
    settings = Settings.from_env({"JAVA_HOME": str(tmp_path / "no-jdk")})

    with pytest.raises(SettingsError, match=r"JAVA_HOME='.*no-jdk' has no bin/java"):
        settings.java_home()


@pytest.mark.fast
def test_redact_and_with_database():
    assert redact("postgresql://u:pw@h:1/db") == "postgresql://u:***@h:1/db"
    assert redact("postgresql://u@h:1/db") == "postgresql://u@h:1/db"
    assert with_database("postgresql://u:pw@h:1/db?sslmode=require", "airflow") == (
        "postgresql://u:pw@h:1/airflow?sslmode=require"
    )


@pytest.mark.fast
def test_the_sites_settings_come_from_settings_with_their_defaults():
    defaults = Settings.from_env({})
    assert (defaults.site_poll_ms, defaults.small_cell, defaults.too_close_points) == (2000, 10, 0.5)
    assert defaults.votes_partition_ids == [0, 1, 2, 3]
    chosen = Settings.from_env({"TALLYFLOW_SITE_POLL_MS": "1000", "TALLYFLOW_SMALL_CELL": "5",
                                "TALLYFLOW_TOO_CLOSE_POINTS": "1.5",
                                "TALLYFLOW_VOTES_PARTITIONS": "2"})
    assert (chosen.site_poll_ms, chosen.small_cell, chosen.too_close_points) == (1000, 5, 1.5)
    assert chosen.votes_partition_ids == [0, 1]
