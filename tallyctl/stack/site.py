"""The Dash results site as a supervised process."""

from __future__ import annotations

import os
import sys

from tallyctl.stack.airflow import REPO_ROOT
from tallyctl.stack.process import ManagedProcess
from tallyflow.settings import Settings


def environment(settings: Settings) -> dict[str, str]:
    """The site's environment: this process's, without anything of Airflow's (its secrets,
    its database URL); the site reads its roles' passwords from the secrets directory."""
    return {**{key: value for key, value in os.environ.items()
               if not key.upper().startswith("AIRFLOW")},
            "TALLYFLOW_HOME": str(settings.home),
            # It casts with the casting role and reads results with the site role.
            "TALLYFLOW_DATABASE_ROLE": "casting"}


def server(settings: Settings) -> ManagedProcess:
    return ManagedProcess(
        name="site",
        argv=[sys.executable, "-m", "dash_app"],
        log_path=settings.logs_dir / "site.log",
        env=environment(settings),
        cwd=REPO_ROOT,
        stop_timeout=10.0,
    )
