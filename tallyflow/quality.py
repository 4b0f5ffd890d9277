"""Running Great Expectations suites on pandas frames, and recording the runs.

One file-based GX project under ``<TALLYFLOW_HOME>/data-quality`` holds every suite, its
results and the Data Docs site, the readable report. Registrations
(``tallyflow.registrations.quality``) and the tally's aggregates
(``tallyflow.votes.quality``) both run through here, and every run is recorded in
``validation_runs`` with the path of its report.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import functools
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
from great_expectations.data_context.types.base import ProgressBarsConfig
from psycopg2.extras import Json

from tallyflow import db

SAMPLE_SIZE = 5


@dataclass
class SuiteResult:
    suite_name: str
    is_passed: bool
    evaluated_expectations: int
    failed_expectations: int
    warned_expectations: int
    row_count: int
    failures: list[dict[str, Any]] = field(default_factory=list)
    report_path: str | None = None


_EPHEMERAL_LOCK = threading.Lock()


@functools.cache
def _ephemeral_context() -> Any:
    """One in-memory context per process (each new one makes a temporary directory)."""
    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    return context


# In memory, a checkpoint is built once per data source, name and list of expectations
# (the very list object, kept here so its id is never reused) and run again on new frames:
# building it again costs more than running it.
_PREPARED: dict[tuple[str, str, int], tuple[Sequence[Any], Any]] = {}
PREPARED_MAX = 256


@contextlib.contextmanager
def _gx_project(root: Path | None) -> Iterator[Any]:
    """The file-based GX project, held under a lock (its stores are plain files); with no
    root, an in-memory context that keeps nothing once the run is over."""
    if root is None:
        with _EPHEMERAL_LOCK:
            yield _ephemeral_context()
        return
    # A file context becomes GX's current project, which leaves the in-memory context's
    # data sources without theirs: the in-memory side starts afresh after it.
    with _EPHEMERAL_LOCK:
        _PREPARED.clear()
        _ephemeral_context.cache_clear()
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        context = gx.get_context(mode="file", project_root_dir=str(root))
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        yield context


def _plain(value: Any) -> str:
    """A sample value as a person would write it (no numpy reprs)."""
    if isinstance(value, tuple | list):
        return "(" + ", ".join(_plain(v) for v in value) + ")"
    if isinstance(value, dict):
        return "(" + ", ".join(f"{k}={_plain(v)}" for k, v in value.items()) + ")"
    return str(value.item() if hasattr(value, "item") else value)


def _summary(result: Any, samples: int) -> dict[str, Any]:
    config = result.expectation_config
    details = result.result or {}
    column = config.kwargs.get("column") or config.kwargs.get("column_list") or (
        [config.kwargs["column_A"], config.kwargs["column_B"]]
        if "column_A" in config.kwargs else None
    )
    sample = [_plain(v) for v in (details.get("partial_unexpected_list") or [])[:samples]]
    if result.exception_info and result.exception_info.get("raised_exception"):
        found = f"could not be evaluated: {result.exception_info.get('exception_message')}"
    elif "unexpected_count" in details:
        found = (f"{details['unexpected_count']:,} of {details.get('element_count', 0):,} rows"
                 + (f", e.g. {', '.join(sample)}" if sample else ""))
    else:
        found = f"observed {details.get('observed_value')!r}"
    description = config.description or config.type
    return {
        "expectation": config.type,
        "column": column,
        "severity": str(getattr(config.severity, "value", config.severity)),
        "unexpected_count": details.get("unexpected_count"),
        "sample": sample,
        "summary": f"{description}: {found}",
    }


def pair_expectation(kind: str, a: str, b: str, description: str) -> Any:
    """Column ``a`` equals column ``b`` on every row (``equal``), or is at least it
    (``at_least``)."""
    if kind == "equal":
        return gxe.ExpectColumnPairValuesToBeEqual(column_A=a, column_B=b,
                                                   description=description)
    return gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A=a, column_B=b, or_equal=True,
                                                       description=description)


def _checkpoint(context: Any, source: Any, suite_name: str, name: str,
                expectations: Sequence[Any], *, docs: bool, samples: int) -> Any:
    """The checkpoint ``name``: suite ``expectations`` on a whole-frame batch of the
    ``suite_name`` asset of pandas data ``source``, updating Data Docs when ``docs``."""
    asset = next((a for a in source.assets if a.name == suite_name), None)
    asset = asset or source.add_dataframe_asset(suite_name)
    batch = (asset.get_batch_definition("whole") if asset.batch_definitions
             else asset.add_batch_definition_whole_dataframe("whole"))
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=name, expectations=[copy.copy(e) for e in expectations])
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch, suite=suite)
    )
    actions = [gx.checkpoint.UpdateDataDocsAction(name="update_data_docs")] if docs else []
    return context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=name,
            validation_definitions=[definition],
            actions=actions,
            result_format={"result_format": "SUMMARY",
                           "partial_unexpected_count": samples},
        )
    )


def run_suites(
    project_dir: Path | None,
    data_source: str,
    prefix: str,
    checks: Mapping[str, tuple[pd.DataFrame, Sequence[Any]]],
    *,
    update_docs: bool = True,
    samples: int = SAMPLE_SIZE,
) -> list[SuiteResult]:
    """Run each suite (name -> (frame, expectations)) as a checkpoint named ``prefix.name``.

    A failed ``critical`` expectation fails its suite; a failed ``warning`` is reported only.
    With a ``project_dir`` the results are kept there and, with ``update_docs``, the Data
    Docs site is rebuilt; without one the run is in memory and has no report.
    ``samples``: how many offending values each failure keeps (in the results, the
    report and ``validation_runs``); 0 where the values are personal data.
    """
    results = []
    keep = project_dir is not None
    with _gx_project(project_dir) as context:
        source = None
        for suite_name, (frame, expectations) in checks.items():
            name = f"{prefix}.{suite_name}"
            key = (data_source, name, id(expectations), samples)
            if not keep and key in _PREPARED:
                checkpoint = _PREPARED[key][1]
            else:
                if source is None:
                    # A file project's source is set up afresh each run; in memory it is
                    # kept, with the assets the prepared checkpoints use.
                    sources = context.data_sources.all()
                    source = (sources[data_source] if not keep and data_source in sources
                              else context.data_sources.add_or_update_pandas(data_source))
                checkpoint = _checkpoint(context, source, suite_name, name, expectations,
                                         docs=keep and update_docs, samples=samples)
                if not keep:
                    if len(_PREPARED) >= PREPARED_MAX:  # callers that build new lists
                        _PREPARED.clear()
                    _PREPARED[key] = (expectations, checkpoint)
            outcome = checkpoint.run(batch_parameters={"dataframe": frame})
            (identifier, validation), = outcome.run_results.items()
            failures = [_summary(r, samples) for r in validation.results if not r.success]
            critical = [f for f in failures if f["severity"] == "critical"]
            results.append(
                SuiteResult(
                    suite_name=suite_name,
                    is_passed=not critical,
                    evaluated_expectations=len(validation.results),
                    failed_expectations=len(critical),
                    warned_expectations=len(failures) - len(critical),
                    row_count=len(frame),
                    failures=failures,
                    report_path=("validations/" + "/".join(identifier.to_tuple()) + ".html"
                                 if keep else None),
                )
            )
    return results


def record_validation_runs(url: str, election_id: str, results: list[SuiteResult],
                           *, suite_prefix: str = "") -> list[int]:
    """Record each run in ``validation_runs``; returns their ids."""
    ids = []
    with db.connection(url) as conn, conn.cursor() as cur:
        for result in results:
            cur.execute(
                db.query("record_validation_run"),
                {
                    "election_id": election_id,
                    "suite_name": suite_prefix + result.suite_name,
                    "is_passed": result.is_passed,
                    "evaluated_expectations": result.evaluated_expectations,
                    "failed_expectations": result.failed_expectations,
                    "warned_expectations": result.warned_expectations,
                    "row_count": result.row_count,
                    "failures": Json(result.failures),
                    "report_url": result.report_path,
                },
            )
            ids.append(cur.fetchone()[0])
    return ids
