"""What the DAGs' tasks share: the settings, a Spark session, a logger, and one way to fail.

A DAG task imports this inside its body (nothing runs when a DAG file is parsed) and stays
a few lines: the work itself is a call into ``tallyflow`` or ``jobs``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

from tallyflow.elections.store import ElectionError
from tallyflow.resources import Resources
from tallyflow.settings import Settings, get_settings


def settings() -> Settings:
    return get_settings()


def resources() -> Resources:
    """The process's resources, wired from the settings once."""
    return Resources.from_settings(get_settings())


def say() -> Callable[[str], None]:
    """Progress lines into the task's log."""
    return logging.getLogger("tallyflow.dags").info


@contextlib.contextmanager
def spark_session() -> Iterator[Any]:
    """A Spark Connect session to the configured server, stopped afterwards."""
    from jobs.spark import session

    spark = session(resources().spark_remote)
    try:
        yield spark
    finally:
        spark.stop()


@contextlib.contextmanager
def refusals_fail() -> Iterator[None]:
    """An election's refusal (a certification discrepancy, an election not ready, an
    unknown election) fails the task at once with ``AirflowFailException`` and its
    message: retrying would not change it. Other errors are retried as usual."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except ElectionError as err:
        raise AirflowFailException(str(err)) from err
