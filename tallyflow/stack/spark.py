"""Embedded Spark Connect server from the pyspark wheel, kept warm for micro-batches."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tallyflow.settings import LOOPBACK, Settings
from tallyflow.stack.process import ManagedProcess

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def server(settings: Settings, java_home: Path) -> ManagedProcess:
    home = spark_home()
    work_dir = settings.home / "spark"
    env = {
        **os.environ,
        "SPARK_HOME": str(home),
        "JAVA_HOME": str(java_home),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_NO_DAEMONIZE": "1",
        "PYSPARK_PYTHON": sys.executable,
    }
    return ManagedProcess(
        name="spark",
        argv=[
            str(home / "bin" / "spark-submit"),
            "--class", CONNECT_SERVER_CLASS,
            "--name", "tallyflow-connect",
            "--master", "local[*]",
            "--driver-memory", settings.spark_driver_memory,
            "--conf", f"spark.connect.grpc.binding.address={LOOPBACK}",
            "--conf", f"spark.connect.grpc.binding.port={settings.spark_port}",
            "--conf", "spark.ui.enabled=false",
            "--conf", "spark.sql.shuffle.partitions=2",
            "--conf", "spark.sql.adaptive.enabled=false",
            "--conf", f"spark.local.dir={work_dir / 'tmp'}",
            "--conf", f"spark.sql.warehouse.dir={work_dir / 'warehouse'}",
            "--conf", f"spark.driver.extraJavaOptions=-Dderby.system.home={work_dir}",
        ],
        log_path=settings.logs_dir / "spark.log",
        env=env,
        cwd=work_dir,
    )


# How a session retries a server that does not answer: about 45 s in all (50 ms, x4 up to
# 10 s), not the client's default 10 minutes. A Connect server that died takes its sessions
# with it; the tally then fails within a minute and its next run opens a new session on the
# restarted server, instead of a task waiting ten minutes on a session that is gone.
RETRIES = {"max_retries": 8, "initial_backoff": 50, "backoff_multiplier": 4.0,
           "max_backoff": 10_000}


def session(remote: str):
    """A new Spark Connect session to ``remote`` (sc://host:port); the caller stops it
    (or, if its server died, passes it to ``abandon``).

    Always a new one: ``getOrCreate`` would hand back a session some other code in this
    process owns, and stopping it there would stop it for them too.
    """
    from pyspark.sql import SparkSession
    from pyspark.sql.connect.client.retries import DefaultPolicy

    spark = SparkSession.builder.remote(remote).create()
    spark.client.set_retry_policies([DefaultPolicy(**RETRIES)])
    return spark


def abandon(spark) -> None:
    """Close a session's channel without a call to its server (one that died would be
    retried for a while, also at interpreter exit)."""
    spark.client.close()
