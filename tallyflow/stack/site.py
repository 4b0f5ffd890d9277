"""The Dash results site as a supervised process."""

from __future__ import annotations

import sys

from tallyflow.settings import Settings
from tallyflow.stack.airflow import REPO_ROOT
from tallyflow.stack.process import ManagedProcess


def server(settings: Settings, env: dict[str, str]) -> ManagedProcess:
    return ManagedProcess(
        name="site",
        argv=[sys.executable, "-m", "dash_app"],
        log_path=settings.logs_dir / "site.log",
        env=env,
        cwd=REPO_ROOT,
        stop_timeout=10.0,
    )
