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


def session(remote: str):
    """A new Spark Connect session to ``remote`` (sc://host:port); the caller stops it.

    Always a new one: ``getOrCreate`` would hand back a session some other code in this
    process owns, and stopping it there would stop it for them too.
    """
    from pyspark.sql import SparkSession

    return SparkSession.builder.remote(remote).create()
