"""What the DAG tests share: loading one DAG file, and a run's task states."""

from __future__ import annotations

from tests.conftest import REPO_ROOT


def load_dag(dag_id: str):
    """The DAG of ``dags/<dag_id>.py``, parsed as Airflow's processor parses it."""
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(REPO_ROOT / "dags" / f"{dag_id}.py")).dags[dag_id]


def task_states(run) -> dict[str, str]:
    return {ti.task_id: ti.state for ti in run.get_task_instances()}
