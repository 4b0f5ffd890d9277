"""Every SQL statement lives in ``sql/queries/`` under a literal name, and every file there is
used: read from the code, not from a database."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
QUERIES = ROOT / "sql" / "queries"
CODE = ("tallyflow", "jobs", "dash_app", "dags", "tallyctl")


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text())) for package in CODE
            for path in (ROOT / package).rglob("*.py")]


def _string_constants() -> set[str]:
    return {node.value for _path, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)}


def _query_calls() -> list[tuple[Path, ast.Call]]:
    return [(path, node) for path, tree in _modules() for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "query" and node.args]


@pytest.mark.fast
def test_every_query_file_is_named_in_the_code():
    names = _string_constants()
    unused = sorted(p.stem for p in QUERIES.glob("*.sql") if p.stem not in names)
    assert unused == []


@pytest.mark.fast
def test_every_literal_query_name_has_its_file():
    missing = sorted({(str(path.relative_to(ROOT)), call.args[0].value)
                      for path, call in _query_calls()
                      if isinstance(call.args[0], ast.Constant)
                      and not (QUERIES / f"{call.args[0].value}.sql").is_file()})
    assert missing == []


@pytest.mark.fast
def test_no_query_name_is_built_at_run_time():
    built = sorted(f"{path.relative_to(ROOT)}:{call.lineno}" for path, call in _query_calls()
                   if isinstance(call.args[0], ast.JoinedStr | ast.BinOp))
    assert built == []


@pytest.mark.fast
def test_no_sql_statement_is_written_inline():
    # A cursor's execute, executemany or mogrify is given a query file, never SQL text;
    # identifiers that cannot be parameters are composed with psycopg2.sql (tallyflow/db.py).
    inline = sorted(
        f"{path.relative_to(ROOT)}:{node.lineno}"
        for path, tree in _modules() for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
        and node.func.attr in ("execute", "executemany", "mogrify", "copy_expert")
        and node.args and isinstance(node.args[0], ast.Constant | ast.JoinedStr)
    )
    assert inline == []
