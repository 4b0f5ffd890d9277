"""The small-cell rule: no published count may reveal fewer than k ballots.

``k`` is ``TALLYFLOW_SMALL_CELL`` (10). A cell below k is hidden (shown as "< k"), and so
is one more whenever a single hidden cell could be worked out by subtracting the shown
ones from a published total. ``suppress`` applies it to one line of cells (the precincts'
turnout, the age and gender cells, a contest's vote methods); ``hide_grid`` to a table
whose rows and columns both have published totals (a contest's precincts × vote methods).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import TypeVar

from tallyflow.settings import get_settings

Key = TypeVar("Key", bound=Hashable)


@dataclass(frozen=True)
class Cell:
    """A count as shown: the number, or ``None`` with ``label`` "< k" when suppressed."""

    value: int | None
    label: str


def shown(cell: Cell) -> int | str:
    """A cell as the exports give it: its number, or "< k" when hidden."""
    return cell.value if cell.value is not None else cell.label


def small_cell() -> int:
    """k: the fewest ballots a published count may stand for."""
    return get_settings().small_cell


def hide_cells(counts: Mapping[Key, int], k: int, hidden: Iterable[Key] = ()) -> set[Key]:
    """The cells of one line with a published total to hide: those in ``hidden``, every
    count below ``k`` (not 0), and the smallest shown count too when only one count
    would be hidden (the total minus the shown ones would give it away)."""
    found = set(hidden) | {key for key, n in counts.items() if 0 < n < k}
    if sum(1 for key in found if counts.get(key, 0) > 0) == 1:
        shown = sorted((n, str(key), key) for key, n in counts.items()
                       if key not in found and n > 0)
        if shown:
            found.add(shown[0][2])
    return found & set(counts)


def suppress(counts: dict[str, int], k: int | None = None) -> dict[str, Cell]:
    """Counts with every cell below ``k`` hidden, and one more when a single hidden cell
    could otherwise be worked out from the published total by subtraction.

    ``k`` is ``TALLYFLOW_SMALL_CELL`` (10) unless given: a turnout or demographic cell with
    fewer ballots shows as "< k"."""
    k = small_cell() if k is None else k
    hidden = hide_cells(counts, k)
    return {key: Cell(None, f"< {k}") if key in hidden else Cell(n, f"{n:,}")
            for key, n in counts.items()}


def hide_grid(counts: Mapping[tuple[Key, Key], int], k: int,
              hidden_rows: Iterable[Key] = ()) -> set[tuple[Key, Key]]:
    """The cells of a (row, column) table to hide when every row's total and every
    column's total is published: every cell of ``hidden_rows``, every count below ``k``
    (not 0), then, until nothing changes, one more in any row or column where a single
    hidden cell could be worked out by subtraction (``hide_cells`` on each line)."""
    rows = set(hidden_rows)
    hidden = {cell for cell, n in counts.items() if cell[0] in rows or 0 < n < k}
    lines: dict[tuple[int, Key], dict[tuple[Key, Key], int]] = {}
    for cell, n in counts.items():
        for axis in (0, 1):
            lines.setdefault((axis, cell[axis]), {})[cell] = n
    # Only a line with a hidden cell can need one more; a cell hidden on one line is
    # looked at again on its other line.
    waiting = {(axis, cell[axis]) for cell in hidden for axis in (0, 1)}
    while waiting:
        line = lines[waiting.pop()]
        more = hide_cells(line, k, [cell for cell in line if cell in hidden]) - hidden
        hidden |= more
        waiting |= {(axis, cell[axis]) for cell in more for axis in (0, 1)}
    return hidden


def hidden_precincts(turnout: Mapping[str, int], precincts: Iterable[str],
                     ballots: Mapping[str, int] | None, k: int) -> set[str]:
    """The precincts where one contest's counts are hidden: of its ``precincts`` (its
    district's), those whose turnout is hidden (``turnout``: every precinct's ballots,
    under ``suppress``), those where its own ballots (``ballots``, by precinct; its
    precincts' turnout when it has none) are too few, and one more when a single one of
    them could be worked out from the contest's published totals."""
    own = list(precincts)
    counts = {rid: (turnout.get(rid, 0) if ballots is None else ballots.get(rid, 0))
              for rid in own}
    return hide_cells(counts, k, hide_cells(turnout, k) & set(own))
