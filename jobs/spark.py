"""Spark Connect sessions for the jobs: always new, and quick to give up on a dead server."""

from __future__ import annotations

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
