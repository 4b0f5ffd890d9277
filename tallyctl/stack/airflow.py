"""Airflow 3 on LocalExecutor, its metadata in its own database on the Tallyflow PostgreSQL.

Airflow is configured entirely through AIRFLOW__* variables built here, so the state
directory holds no airflow.cfg edits and a restart picks up the same configuration.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

from tallyctl.stack.process import ManagedProcess, StartupError, log_tail
from tallyflow.settings import LOOPBACK, Settings

ADMIN_USER = "admin"
REPO_ROOT = Path(__file__).resolve().parents[2]
DAGS_FOLDER = REPO_ROOT / "dags"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")


def airflow_home(settings: Settings) -> Path:
    return settings.home / "airflow"


def _secret(settings: Settings, name: str, make) -> str:
    """A generated secret kept in the state directory, so every restart reuses it."""
    path = settings.secrets_dir / name
    if not path.exists():
        settings.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        path.write_text(make() + "\n")
        path.chmod(0o600)
    return path.read_text().strip()


def admin_password(settings: Settings) -> str:
    """Kept in the secrets directory only; `up` says where, never what."""
    return _secret(settings, "airflow-admin-password", lambda: secrets.token_urlsafe(12))


def admin_password_path(settings: Settings) -> Path:
    admin_password(settings)  # made on first use
    return settings.secrets_dir / "airflow-admin-password"


def environment(settings: Settings) -> dict[str, str]:
    """The environment every Airflow process (and every task it runs) gets."""
    from cryptography.fernet import Fernet

    home = airflow_home(settings)
    home.mkdir(parents=True, exist_ok=True)
    passwords_file = home / "simple_auth_manager_passwords.json"
    passwords_file.write_text(json.dumps({ADMIN_USER: admin_password(settings)}))
    passwords_file.chmod(0o600)
    api = f"http://{LOOPBACK}:{settings.airflow_port}"
    sql_alchemy_conn = settings.airflow_database_url.replace(
        "postgresql://", "postgresql+psycopg2://", 1
    ).replace("postgres://", "postgresql+psycopg2://", 1)
    return {
        **os.environ,
        "TALLYFLOW_HOME": str(settings.home),
        # Tasks write rows, never the schema: the run-time role, not the owner.
        "TALLYFLOW_DATABASE_ROLE": "app",
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS_FOLDER),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api}/execution/",
        "AIRFLOW__CORE__FERNET_KEY": _secret(
            settings, "airflow-fernet-key", lambda: Fernet.generate_key().decode()
        ),
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(passwords_file),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sql_alchemy_conn,
        "AIRFLOW__API__HOST": LOOPBACK,
        "AIRFLOW__API__PORT": str(settings.airflow_port),
        "AIRFLOW__API__BASE_URL": api,
        "AIRFLOW__API__WORKERS": "1",
        "AIRFLOW__API__EXPOSE_CONFIG": "False",
        "AIRFLOW__API__SECRET_KEY": _secret(settings, "airflow-api-secret", secrets.token_hex),
        "AIRFLOW__API_AUTH__JWT_SECRET": _secret(settings, "airflow-jwt-secret", secrets.token_hex),
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        # A killed scheduler takes its LocalExecutor's tasks with it. Its restarted copy
        # resets the orphaned task instances (of a scheduler job silent for 30 s) every 30 s
        # instead of every 5 minutes, so the tally runs again within about a minute; and a
        # task that stops heartbeating (every 5 s) is failed after a minute, not five.
        "AIRFLOW__SCHEDULER__ORPHANED_TASKS_CHECK_INTERVAL": "30",
        "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": "60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(settings.logs_dir / "airflow"),
    }


def airflow_bin() -> str:
    return str(Path(sys.executable).parent / "airflow")


def migrate_metadata(settings: Settings, env: dict[str, str]) -> None:
    """Create or upgrade Airflow's metadata schema (a no-op when it is current)."""
    log = settings.logs_dir / "airflow-db-migrate.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as out:
        result = subprocess.run(
            [airflow_bin(), "db", "migrate"], env=env, stdout=out, stderr=subprocess.STDOUT
        )
    if result.returncode != 0:
        raise StartupError(f"airflow db migrate failed; last lines of {log}:\n{log_tail(log)}")


def processes(settings: Settings, env: dict[str, str]) -> list[ManagedProcess]:
    argv = {
        "api-server": [airflow_bin(), "api-server", "--host", LOOPBACK,
                       "--port", str(settings.airflow_port), "--workers", "1"],
        # No log server: it listens on every interface (Airflow cannot bind it to loopback)
        # and the API server reads the task logs from the shared log folder anyway.
        "scheduler": [airflow_bin(), "scheduler", "--skip-serve-logs"],
        "dag-processor": [airflow_bin(), "dag-processor"],
        "triggerer": [airflow_bin(), "triggerer", "--skip-serve-logs"],
    }
    return [
        ManagedProcess(
            name=f"airflow-{component}",
            argv=argv[component],
            log_path=settings.logs_dir / f"airflow-{component}.log",
            env=env,
            cwd=airflow_home(settings),
        )
        for component in COMPONENTS
    ]
