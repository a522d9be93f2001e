"""The small-cell rule: no count of 1-5 is shown, and no hidden count follows from what is shown."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.reports.suppression import COMPLEMENT_MARK, PRIMARY_MARK, suppress


def full_grid(counts: list[list[int]]) -> list[list[int]]:
    rows = [r + [sum(r)] for r in counts]
    return rows + [[sum(col) for col in zip(*rows, strict=True)]]


def recoverable(counts: list[list[int]], table) -> list[tuple[int, int]]:
    """Hidden cells an attacker can solve for from the shown cells and the row/column sums.

    Independent of the implementation's rank test: a hidden cell is free exactly when some vector in the null
    space of the hidden cells' sum equations moves it (computed here by SVD).
    """
    grid = full_grid(counts)
    n_r, n_c = len(grid), len(grid[0])
    hidden = [(i, j) for i in range(n_r) for j in range(n_c) if table.value(i, j) is None]
    if not hidden:
        return []
    col = {c: k for k, c in enumerate(hidden)}
    eqs = []
    for i in range(n_r):  # row i: cells - total = 0
        eqs.append([((-1 if c[1] == n_c - 1 else 1) if c[0] == i else 0) for c in hidden])
    for j in range(n_c):  # column j: cells - total = 0
        eqs.append([((-1 if c[0] == n_r - 1 else 1) if c[1] == j else 0) for c in hidden])
    a = np.array(eqs, dtype=float)
    _, sv, vt = np.linalg.svd(a)
    rank = int((sv > 1e-9).sum())
    null = vt[rank:]
    return [c for c in hidden if null.size == 0 or np.all(np.abs(null[:, col[c]]) < 1e-9)]


small_tables = st.integers(1, 5).flatmap(lambda rows: st.integers(1, 5).flatmap(
    lambda cols: st.lists(st.lists(st.one_of(st.integers(0, 8), st.integers(0, 400)), min_size=cols, max_size=cols),
                          min_size=rows, max_size=rows)))


@settings(max_examples=300, deadline=None)
@given(small_tables)
def test_no_small_count_is_shown_and_no_hidden_count_can_be_recovered(counts):
    table = suppress(counts)
    grid = full_grid(counts)
    for i, row in enumerate(grid):
        for j, v in enumerate(row):
            shown = table.value(i, j)
            assert shown is None or shown == v  # what is shown is true
            if 0 < v < 6:
                assert shown is None and table.text(i, j) == PRIMARY_MARK
    assert recoverable(counts, table) == []


@settings(max_examples=200, deadline=None)
@given(small_tables)
def test_each_row_with_its_total_never_hides_exactly_one_cell(counts):
    table = suppress(counts)
    for i in range(table.n_rows + 1):
        hidden = sum(table.value(i, j) is None for j in range(table.n_cols + 1))
        assert hidden != 1
    for j in range(table.n_cols + 1):
        hidden = sum(table.value(i, j) is None for i in range(table.n_rows + 1))
        assert hidden != 1


def test_complement_is_the_next_smallest_cell_and_is_marked():
    table = suppress([[3, 40, 9, 100]] + [[50, 60, 70, 80]] * 2)
    assert table.text(0, 0) == PRIMARY_MARK
    assert table.text(0, 2) == COMPLEMENT_MARK  # 9 is the smallest other cell of the row
    assert table.value(0, 1) == 40


def test_percentages_of_withheld_counts_are_withheld():
    table = suppress([[2, 30, 100], [40, 50, 60], [45, 55, 65]])
    assert table.share(0, 0) == COMPLEMENT_MARK
    # (0, 1) is hidden as the complement, so its share of the row total must be hidden too.
    assert table.value(0, 1) is None and table.share(0, 1) == COMPLEMENT_MARK
    assert table.share(2, 2) == f"{100 * 65 / 165:.1f}%"


def test_tables_without_small_counts_are_untouched():
    table = suppress([[6, 7], [0, 12]])
    assert not table.any_withheld
    assert table.value(2, 2) == 25


def test_ragged_or_negative_input_is_refused():
    with pytest.raises(ValueError):
        suppress([[1, 2], [3]])
    with pytest.raises(ValueError):
        suppress([[-1]])
