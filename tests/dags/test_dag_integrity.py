"""DAG integrity: every DAG imports, is configured as the house style asks, and parses with no I/O."""

from __future__ import annotations

import json
import socketserver
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT, free_port

DAG_FILES = sorted((REPO_ROOT / "dags").glob("*.py"))


@pytest.fixture(scope="module")
def dag_bag():
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags"))


@pytest.mark.fast
def test_there_are_dags():
    assert DAG_FILES, "no DAG files found"


@pytest.mark.fast
def test_every_dag_imports_cleanly(dag_bag):
    assert dag_bag.import_errors == {}
    assert {Path(f).stem for f in map(str, DAG_FILES)} == set(dag_bag.dag_ids)


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.stem)
@pytest.mark.fast
def test_dag_is_configured_as_the_house_style_asks(dag_bag, path: Path):
    dag = dag_bag.dags.get(path.stem)  # file stem = dag_id

    assert dag is not None, f"{path.name} defines no DAG with dag_id {path.stem!r}"
    assert dag.tags, "tags"
    assert dag.catchup is False, "catchup=False"
    assert dag.doc_md and len(dag.doc_md.strip()) > 40, "doc_md"
    assert "schedule" in _dag_keywords(path), "an explicit schedule= in @dag(...)"
    for task in dag.tasks:
        assert task.retries >= 1, f"{task.task_id} has no retries"


def _dag_keywords(path: Path) -> set[str]:
    """The keywords the file's ``@dag(...)`` decorator is given (Airflow fills in a default
    schedule, so the parsed DAG cannot tell whether one was written)."""
    import ast

    return {keyword.arg for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.FunctionDef) for deco in node.decorator_list
            if isinstance(deco, ast.Call) and getattr(deco.func, "id", None) == "dag"
            for keyword in deco.keywords}


@pytest.mark.fast
def test_the_schedule_check_reads_what_the_file_says(tmp_path):
    without = tmp_path / "no_schedule.py"
    without.write_text("@dag(dag_id='x', catchup=False)\ndef x():\n    pass\n")
    assert "schedule" not in _dag_keywords(without)
    assert "schedule" in _dag_keywords(REPO_ROOT / "dags" / "open_elections.py")


class _Trap(socketserver.ThreadingTCPServer):
    """A TCP listener that counts every connection made to it."""

    allow_reuse_address = True
    daemon_threads = True

    def __init__(self, port: int):
        self.connections = 0
        super().__init__(("127.0.0.1", port), socketserver.BaseRequestHandler)

    def verify_request(self, request, client_address) -> bool:
        self.connections += 1
        return True


# Airflow's own start-up (croniter probes the platform with `file`) is not the DAGs' doing.
PRELOAD = "import airflow.sdk, croniter, pendulum\n"

PARSE_SCRIPT = r"""
import json, runpy, sys
attempts = []
def audit(event, args):
    if event in ("socket.connect", "socket.getaddrinfo", "subprocess.Popen", "os.system"):
        attempts.append([event, repr(args)[:200]])
sys.addaudithook(audit)
before = set(sys.modules)
for path in sys.argv[1:]:
    runpy.run_path(path)
heavy = sorted(m for m in set(sys.modules) - before
               if m.split(".")[0] in ("pyspark", "great_expectations", "psycopg2", "confluent_kafka", "dash"))
print(json.dumps({"attempts": attempts, "heavy": heavy}))
"""


@pytest.mark.fast
def test_parsing_dag_files_does_no_io():
    """Every service points at a trap; parsing must not connect to it or to anything else."""
    import os

    port = free_port()
    trap = _Trap(port)
    threading.Thread(target=trap.serve_forever, daemon=True).start()
    env = {
        **os.environ,
        "TALLYFLOW_DATABASE_URL": f"postgresql://u:p@127.0.0.1:{port}/trap",
        "TALLYFLOW_KAFKA_BOOTSTRAP": f"127.0.0.1:{port}",
        "TALLYFLOW_SPARK_REMOTE": f"sc://127.0.0.1:{port}",
    }
    try:
        result = subprocess.run(
            [sys.executable, "-c", PRELOAD + PARSE_SCRIPT, *map(str, DAG_FILES)],
            capture_output=True, text=True, env=env, cwd=REPO_ROOT, timeout=120,
        )
    finally:
        trap.shutdown()
        trap.server_close()

    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert trap.connections == 0
    assert report["attempts"] == []
    assert report["heavy"] == []
