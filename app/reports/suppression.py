"""Small-cell suppression for counts of people (the published P20 WIN rule).

Any count of people from 1 to 5 is hidden (primary suppression). Then, so that no hidden count can be
worked out from what is shown, more cells are hidden (complementary suppression) until no hidden cell is
fixed by the row and column sums: first the next-smallest cell of every row or column that hides exactly
one cell, then, for the rare patterns where that is not enough, more cells until a rank test shows every
hidden cell is free. Totals are cells like any other. A zero is shown: it discloses no one, and it is
picked as a complement only when nothing else is left.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .formatting import number

THRESHOLD = 6
PRIMARY_MARK = "<6"
COMPLEMENT_MARK = "*"
FOOTNOTE = (
    "<6 = fewer than six people; the count is withheld to protect privacy. "
    "* = withheld so that a small count cannot be worked out from the totals."
)

Cell = tuple[int, int]


@dataclass(frozen=True)
class SuppressedCounts:
    """A table of people counts with its row and column totals, after suppression.

    Index rows ``0..n_rows-1`` and columns ``0..n_cols-1``; index ``n_rows`` is the column-total row and
    ``n_cols`` the row-total column, so ``value(n_rows, n_cols)`` is the grand total. Hidden values are not
    kept: a hidden cell cannot leak through this object.
    """

    n_rows: int
    n_cols: int
    _shown: tuple[tuple[int | None, ...], ...]
    _primary: frozenset[Cell]

    def value(self, i: int, j: int) -> int | None:
        """The count, or ``None`` when it is withheld."""
        return self._shown[i][j]

    def text(self, i: int, j: int) -> str:
        """The count as printed: ``"1,234"``, ``"<6"`` (small) or ``"*"`` (complement)."""
        v = self._shown[i][j]
        if v is not None:
            return number(v)
        return PRIMARY_MARK if (i, j) in self._primary else COMPLEMENT_MARK

    def share(self, i: int, j: int, *, of: Cell | None = None) -> str:
        """Cell ``(i, j)`` as a percentage of cell ``of`` (default: its row total).

        Withheld (``"*"``) when either count is withheld, since a percentage of a shown total reveals the
        count it was made from.
        """
        oi, oj = of if of is not None else (i, self.n_cols)
        part, whole = self._shown[i][j], self._shown[oi][oj]
        if part is None or whole is None:
            return COMPLEMENT_MARK
        if whole == 0:
            return "–"
        return f"{100.0 * part / whole:.1f}%"

    @property
    def any_withheld(self) -> bool:
        """True when at least one count is withheld (the report then prints ``FOOTNOTE``)."""
        return any(v is None for row in self._shown for v in row)


def suppress(counts: Sequence[Sequence[int]]) -> SuppressedCounts:
    """Apply the small-cell rule to ``counts`` (rows of non-negative integers, all the same length).

    Row totals, column totals and the grand total are computed here, so they always agree with the cells.
    Raises ValueError for ragged or negative input.
    """
    rows = [list(map(int, r)) for r in counts]
    n_rows = len(rows)
    n_cols = len(rows[0]) if rows else 0
    if any(len(r) != n_cols for r in rows):
        raise ValueError("every row of a count table must have the same number of cells")
    if any(v < 0 for r in rows for v in r):
        raise ValueError("counts of people cannot be negative")
    grid = [r + [sum(r)] for r in rows]
    grid.append([sum(grid[i][j] for i in range(n_rows)) for j in range(n_cols + 1)])

    primary = {(i, j) for i in range(n_rows + 1) for j in range(n_cols + 1) if 0 < grid[i][j] < THRESHOLD}
    hidden = set(primary)
    lines = [[(i, j) for j in range(n_cols + 1)] for i in range(n_rows + 1)]
    lines += [[(i, j) for i in range(n_rows + 1)] for j in range(n_cols + 1)]

    def smallest_shown(line: list[Cell]) -> Cell | None:
        free = [c for c in line if c not in hidden]
        # Prefer a non-zero complement: hiding a zero next to a small count narrows it down less well.
        return min(free, key=lambda c: (grid[c[0]][c[1]] == 0, grid[c[0]][c[1]]), default=None)

    while True:
        changed = False
        for line in lines:
            if sum(c in hidden for c in line) == 1:
                pick = smallest_shown(line)
                if pick is not None:
                    hidden.add(pick)
                    changed = True
        if changed:
            continue
        fixed = _determined(hidden, n_rows, n_cols)
        if not fixed:
            break
        i, j = fixed[0]
        options = [c for c in (smallest_shown(lines[i]), smallest_shown(lines[n_rows + 1 + j])) if c]
        if not options:
            break
        hidden.add(min(options, key=lambda c: grid[c[0]][c[1]]))

    shown = tuple(
        tuple(None if (i, j) in hidden else grid[i][j] for j in range(n_cols + 1)) for i in range(n_rows + 1)
    )
    return SuppressedCounts(n_rows, n_cols, shown, frozenset(primary))


def _determined(hidden: set[Cell], n_rows: int, n_cols: int) -> list[Cell]:
    """Hidden cells whose value follows from the shown cells through the row and column sums."""
    if not hidden:
        return []
    unknowns = sorted(hidden)
    index = {c: k for k, c in enumerate(unknowns)}
    equations = []
    # Each row: its cells minus its total = 0; each column likewise. Only the hidden cells' coefficients
    # matter for whether a hidden cell is fixed.
    for i in range(n_rows + 1):
        eq = np.zeros(len(unknowns))
        for j in range(n_cols + 1):
            if (i, j) in index:
                eq[index[(i, j)]] = -1.0 if j == n_cols else 1.0
        equations.append(eq)
    for j in range(n_cols + 1):
        eq = np.zeros(len(unknowns))
        for i in range(n_rows + 1):
            if (i, j) in index:
                eq[index[(i, j)]] = -1.0 if i == n_rows else 1.0
        equations.append(eq)
    a = np.array(equations)
    rank = np.linalg.matrix_rank(a)
    fixed = []
    for k, cell in enumerate(unknowns):
        unit = np.zeros((1, len(unknowns)))
        unit[0, k] = 1.0
        if np.linalg.matrix_rank(np.vstack([a, unit])) == rank:
            fixed.append(cell)
    return fixed
