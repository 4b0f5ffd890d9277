"""What every certification step shares: how it refuses and how it is audited."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from tallyflow.elections.audit import audited
from tallyflow.elections.store import ElectionError

# Audit actions and validation suites of certification are named "certify.<step>".
SUITE_PREFIX = "certify."


class CertificationRefused(ElectionError):
    """Certification stopped; ``discrepancies`` says what did not hold (check, where,
    expected, found)."""

    def __init__(self, message: str, discrepancies: list[dict[str, Any]] | None = None) -> None:
        self.discrepancies = discrepancies or []
        lines = [message] + [
            f"  - {d['check']}: {d['where']}: expected {d['expected']}, found {d['found']}"
            for d in self.discrepancies
        ]
        super().__init__("\n".join(lines))


@contextlib.contextmanager
def step(url: str, election_id: str, name: str, actor: str) -> Iterator[dict[str, Any]]:
    """The step's audit entry (``certify.<name>``): ok with the yielded details, refused
    with the discrepancies, or failed with the error."""
    with audited(url, election_id, SUITE_PREFIX + name, actor) as detail:
        yield detail
