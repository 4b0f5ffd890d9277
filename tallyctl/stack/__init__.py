"""The embedded platform: start, watch and stop every component ``tallyflow up`` owns.

Components that the settings point elsewhere (external database, broker or Spark) are
used as they are and never started or stopped here.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

import psutil

from tallyctl.stack import airflow, broker, health, postgres, site, spark
from tallyctl.stack.process import ManagedProcess, log_tail, port_is_free, stop_tree
from tallyflow import db
from tallyflow.kafka import ensure_topics
from tallyflow.settings import (
    LOOPBACK,
    SITE_ROLE,
    Settings,
    SettingsError,
    database_name,
    redact,
    with_database,
)

# A component that ran this long before it exited is restarted after the shortest delay.
RESTART_RESET_SECONDS = 60.0
MAX_RESTART_DELAY = 60.0


def state_file(settings: Settings) -> Path:
    return settings.run_dir / "stack.json"


def read_state(settings: Settings) -> dict | None:
    try:
        return json.loads(state_file(settings).read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None


def running_supervisor(settings: Settings) -> int | None:
    """The pid of a live ``tallyflow up`` for this state directory, if any."""
    state = read_state(settings)
    if not state:
        return None
    pid = state.get("supervisor_pid")
    if pid and _alive(pid):
        try:
            # `tallyflow up`, or `python -m tallyctl up`
            command = " ".join(psutil.Process(pid).cmdline())
            if "tallyflow" in command or "tallyctl" in command:
                return pid
        except psutil.NoSuchProcess:
            return None
    return None


def _alive(pid: int) -> bool:
    """True while ``pid`` runs; a zombie (exited, not yet reaped by its parent) has stopped."""
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _alive(pid):
            return True
        time.sleep(0.2)
    return False


def preflight(settings: Settings) -> None:
    """Check everything that can be checked before starting anything; raise SettingsError."""
    pid = running_supervisor(settings)
    if pid:
        raise SettingsError(
            f"TALLYFLOW_HOME={settings.home}: a stack is already running there (pid {pid}); "
            f"run `tallyflow down` first"
        )
    wanted = {"TALLYFLOW_AIRFLOW_PORT": settings.airflow_port,
              "TALLYFLOW_SITE_PORT": settings.site_port}
    if settings.embeds_postgres:
        wanted["TALLYFLOW_POSTGRES_PORT"] = settings.postgres_port
    if settings.embeds_kafka:
        wanted["TALLYFLOW_KAFKA_PORT"] = settings.kafka_port
        if settings.kafka_storage == "durable":
            wanted["TALLYFLOW_KAFKA_STORE_PORT"] = settings.kafka_store_port
        broker.check(settings)
    if settings.embeds_spark:
        wanted["TALLYFLOW_SPARK_PORT"] = settings.spark_port
        settings.java_home()
    seen: dict[int, str] = {}
    for name, port in wanted.items():
        if port in seen:
            raise SettingsError(f"{name}={port} is the same port as {seen[port]}")
        seen[port] = name
        if not port_is_free(port):
            raise SettingsError(
                f"{name}={port}: that port is already in use on {LOOPBACK}; "
                f"stop what uses it or choose another port"
            )


@dataclass
class Stack:
    """The components one ``tallyflow up`` started, in start order."""

    settings: Settings
    say: Callable[[str], None] = print
    started: list[ManagedProcess] = field(default_factory=list)
    _t0: float = field(default_factory=time.monotonic)

    def _progress(self, message: str) -> None:
        # Nobody may read our output any more (closed pipe); keep working regardless.
        with contextlib.suppress(OSError):
            self.say(f"[{time.monotonic() - self._t0:5.1f}s] {message}")

    def _start(self, proc: ManagedProcess) -> ManagedProcess:
        proc.start()
        self.started.append(proc)
        self._write_state()
        return proc

    def _write_state(self) -> None:
        path = state_file(self.settings)
        path.parent.mkdir(parents=True, exist_ok=True)
        state = {
            "supervisor_pid": os.getpid(),
            "components": {
                p.name: {"pid": p.pid, "log": str(p.log_path), "stop_signal": int(p.stop_signal),
                         "restarts": p.restarts, "last_exit_code": p.last_exit_code}
                for p in self.started
            },
        }
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2))
        tmp.replace(path)

    def start(self) -> None:
        """Start every embedded component and wait until each is healthy."""
        s = self.settings
        s.home.mkdir(parents=True, exist_ok=True)
        # The JVM and the broker warm up while the database is prepared.
        pg = self.launch_postgres() if s.embeds_postgres else None
        kafka = self.launch_kafka() if s.embeds_kafka else None
        spark_server = self.launch_spark() if s.embeds_spark else None
        self.prepare_database(pg)
        self.prepare_broker(kafka)

        airflow_env = airflow.environment(s)
        self._progress("airflow: migrating metadata database")
        airflow.migrate_metadata(s, airflow_env)
        self._progress("airflow: starting api-server, scheduler, dag-processor, triggerer")
        api_server, *_ = [self._start(p) for p in airflow.processes(s, airflow_env)]
        site_proc = self._start(site.server(s))

        self.await_spark(spark_server)
        site_proc.wait_until(lambda: health.site(s).is_healthy, 60, "serving pages")
        self._progress(f"site: serving {s.site_url}")
        api_server.wait_until(lambda: health.airflow(s).is_healthy, 120, "healthy")
        self._progress(f"airflow: healthy at {s.airflow_url}")

    def launch_postgres(self) -> ManagedProcess:
        self._progress("postgres: preparing data directory")
        postgres.ensure_initialised(self.settings)
        return self._start(postgres.server(self.settings))

    def launch_kafka(self) -> ManagedProcess:
        """The broker; with durable storage, its object store first (the broker needs it)."""
        s = self.settings
        if s.kafka_storage == "durable":
            store = self._start(broker.object_store(s))
            store.wait_until(lambda: not port_is_free(s.kafka_store_port), 30, "listening")
            self._progress(f"kafka: durable log in {s.kafka_store_dir}")
        return self._start(broker.server(s))

    def launch_spark(self) -> ManagedProcess:
        proc = self._start(spark.server(self.settings, self.settings.java_home()))
        self._progress("spark: Connect server starting (JVM warm-up runs in the background)")
        return proc

    def prepare_database(self, pg: ManagedProcess | None) -> None:
        """Wait for PostgreSQL, create the Tallyflow and Airflow databases, apply migrations."""
        s = self.settings
        owner = s.owner_database_url
        server_url = with_database(owner, "postgres")
        if pg:
            pg.wait_until(lambda: db.connect(server_url).close() is None, 60,
                          "accepting connections")
            self._progress(f"postgres: ready on {LOOPBACK}:{s.postgres_port}")
        for url in (owner, s.airflow_database_url):
            name = database_name(url)
            # Airflow's metadata under a role of its own (docker-compose gives it one): it
            # owns its database and nothing of Tallyflow's.
            role = urlsplit(url).username
            own_role = url != owner and role and role != urlsplit(owner).username
            if own_role:
                db.ensure_login_role(server_url, role, unquote(urlsplit(url).password or ""))
            if db.ensure_database(server_url, name, owner=role if own_role else None):
                self._progress(f"postgres: created database {name}")
        applied = db.migrate(owner)
        self._progress(f"postgres: {len(applied)} migration(s) applied to {redact(owner)}")
        site_password = s.site_database_url_password()
        if site_password is not None:
            db.enable_role(owner, SITE_ROLE, site_password)
        # On an external database, the roles whose password files the operator wrote
        # (docker-compose's tallyflow-init writes them from .env).
        for role in ("tallyflow_app", "tallyflow_casting"):
            if s.embeds_postgres or s.role_password_file(role).exists():
                db.enable_role(owner, role, s.role_password(role))

    def prepare_broker(self, kafka: ManagedProcess | None) -> None:
        """Wait for the broker and create the topics Tallyflow uses."""
        s = self.settings
        if kafka:
            kafka.wait_until(lambda: not port_is_free(s.kafka_port), 30, "listening")
        created = ensure_topics(s.kafka_bootstrap, {s.votes_topic: s.votes_partitions})
        self._progress(
            f"kafka: {s.kafka_bootstrap} ready, topic {s.votes_topic}"
            + (" created" if created else " exists")
            + f" ({s.votes_partitions} partitions)"
        )

    def await_spark(self, spark_server: ManagedProcess | None) -> None:
        if spark_server:
            spark_server.wait_until(lambda: health.spark(self.settings).is_healthy, 120,
                                    "answering queries")
        self._progress(f"spark: Connect server ready at {self.settings.spark_remote}")

    def stop(self) -> None:
        """Stop every started component, newest first; the database goes last."""
        for proc in reversed(self.started):
            if proc.exited() is None:
                self._progress(f"{proc.name}: stopping")
            proc.stop()
        self.started.clear()
        state_file(self.settings).unlink(missing_ok=True)

    def supervise(self, poll: float = 1.0, stop: threading.Event | None = None) -> None:
        """Keep every component running until Ctrl-C or SIGTERM interrupts: one that exits is
        started again after a backoff (1 s, doubling to 60 s while it keeps failing within a
        minute of its start), on the same data; its restarts are in the state file that
        ``tallyflow status --json`` reports. ``stop`` ends it too (for tests)."""
        due: dict[str, float] = {}
        failing: dict[str, int] = {}
        while stop is None or not stop.is_set():
            now = time.monotonic()
            for proc in list(self.started):
                code = proc.exited()
                if code is None:
                    proc.remember_descendants()
                    continue
                if proc.name not in due:
                    quick = now - proc.started_at < RESTART_RESET_SECONDS
                    failing[proc.name] = failing.get(proc.name, 0) + 1 if quick else 0
                    delay = min(MAX_RESTART_DELAY, 2.0 ** failing[proc.name])
                    due[proc.name] = now + delay
                    self._progress(
                        f"{proc.name}: exited with code {code}; restarting in {delay:.0f} s; "
                        f"last lines of {proc.log_path}:\n{log_tail(proc.log_path, 5)}")
                elif now >= due[proc.name]:
                    del due[proc.name]
                    self._restart(proc)
            time.sleep(poll)

    def _restart(self, proc: ManagedProcess) -> None:
        proc.restart()
        self._write_state()
        self._progress(f"{proc.name}: restarted (restart {proc.restarts})")
        try:
            if proc.name == "kafka":  # an in-memory broker comes back empty: topics again
                self.prepare_broker(proc)
        except Exception as err:  # it is watched like any other: a failure shows as an exit
            self._progress(f"{proc.name}: not ready after its restart: {err}")


def summary_rows(settings: Settings) -> list[tuple[str, str, str]]:
    """(component, where, note) for the table ``up`` prints once everything is healthy."""
    def origin(embedded: bool) -> str:
        return "embedded" if embedded else "external"

    return [
        ("Results site", settings.site_url, ""),
        ("Airflow UI", settings.airflow_url,
         f"login {airflow.ADMIN_USER}, password in "
         f"{airflow.admin_password_path(settings)}"),
        ("PostgreSQL", redact(settings.owner_database_url), origin(settings.embeds_postgres)),
        ("Kafka", settings.kafka_bootstrap,
         f"{origin(settings.embeds_kafka)}, topic {settings.votes_topic}"),
        ("Spark Connect", settings.spark_remote, origin(settings.embeds_spark)),
        ("Logs", str(settings.logs_dir), ""),
    ]


def down(settings: Settings, say: Callable[[str], None] = print, timeout: float = 120.0) -> bool:
    """Stop the stack of this state directory. Returns False if nothing was running."""
    state = read_state(settings)
    if not state:
        return False
    pid = running_supervisor(settings)
    if pid:
        say(f"stopping tallyflow up (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        if not _wait_gone(pid, timeout):
            say(f"tallyflow up (pid {pid}) did not stop in {timeout:.0f} s; "
                "stopping its components")
    # Whatever the supervisor left behind (it may have been killed): stop it directly.
    for name, info in reversed(list(state.get("components", {}).items())):
        component_pid = info.get("pid")
        if component_pid and _alive(component_pid):
            say(f"{name}: stopping leftover process {component_pid}")
            stop_tree(component_pid, info.get("stop_signal", signal.SIGTERM))
    state_file(settings).unlink(missing_ok=True)
    return True
