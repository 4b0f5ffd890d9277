"""Embedded Spark Connect server from the pyspark wheel, kept warm for micro-batches.

Sessions to it are opened by the jobs (`jobs.spark.session`)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from tallyctl.stack.process import ManagedProcess
from tallyflow.settings import LOOPBACK, Settings

CONNECT_SERVER_CLASS = "org.apache.spark.sql.connect.service.SparkConnectServer"


def spark_home() -> Path:
    import pyspark

    return Path(pyspark.__file__).parent


def _env(java_home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "SPARK_HOME": str(spark_home()),
        "JAVA_HOME": str(java_home),
        "SPARK_LOCAL_IP": LOOPBACK,
        "SPARK_NO_DAEMONIZE": "1",
        "PYSPARK_PYTHON": sys.executable,
    }


def server(settings: Settings, java_home: Path, master: str = "local[*]") -> ManagedProcess:
    """The Connect server; its jobs run in its own JVM (``local[*]``) or on the standalone
    cluster at ``master`` (``spark://host:port``)."""
    home = spark_home()
    work_dir = settings.home / "spark"
    env = _env(java_home)
    return ManagedProcess(
        name="spark",
        argv=[
            str(home / "bin" / "spark-submit"),
            "--class", CONNECT_SERVER_CLASS,
            "--name", "tallyflow-connect",
            "--master", master,
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


def standalone_master(work_dir: Path, java_home: Path, port: int,
                      webui_port: int) -> ManagedProcess:
    """A Spark standalone master from the pyspark wheel, on the loopback interface."""
    return ManagedProcess(
        name="spark-master",
        argv=[str(spark_home() / "bin" / "spark-class"),
              "org.apache.spark.deploy.master.Master",
              "--host", LOOPBACK, "--port", str(port), "--webui-port", str(webui_port)],
        log_path=work_dir / "master.log", env=_env(java_home), cwd=work_dir,
    )


def standalone_worker(work_dir: Path, java_home: Path, master: str, *, cores: int,
                      memory: str, webui_port: int) -> ManagedProcess:
    """A Spark standalone worker offering ``cores`` and ``memory`` to ``master``."""
    return ManagedProcess(
        name="spark-worker",
        argv=[str(spark_home() / "bin" / "spark-class"),
              "org.apache.spark.deploy.worker.Worker", master,
              "--host", LOOPBACK, "--cores", str(cores), "--memory", memory,
              "--webui-port", str(webui_port), "--work-dir", str(work_dir / "work")],
        log_path=work_dir / "worker.log", env=_env(java_home), cwd=work_dir,
    )
