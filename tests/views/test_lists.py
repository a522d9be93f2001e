"""The generic table model, its filter proxy and the list page, on 100,000 rows and on hostile text."""
from __future__ import annotations

import csv
from datetime import date

import pytest
from openpyxl import load_workbook
from PySide6.QtCore import Qt

from app.export import neutralise_cell
from app.views.list_page import ListPage
from bench.list_rows import COLUMNS, Row, make_rows


@pytest.fixture(scope="module")
def many_rows():
    return make_rows(100_000)


@pytest.fixture
def big_list(qtbot, many_rows):
    page = ListPage("Requests", COLUMNS, settings_key="test-big")
    qtbot.addWidget(page)
    page.resize(1200, 700)
    page.show()
    rows = many_rows
    page.set_rows(rows)
    return page, rows


def shown(page: ListPage) -> list[Row]:
    return page.shown_rows()


def test_search_and_filters_on_100k_rows(big_list, qtbot):
    page, rows = big_list
    assert page.proxy.rowCount() == 100_000
    assert page.count_label.text() == "100,000 rows"

    page.search.setText("study 4242")
    qtbot.waitUntil(lambda: page.proxy.rowCount() < 100_000, timeout=3000)
    # Every word must appear somewhere in the row (here: "study" in the title, "4242" in number or title).
    expected = [r for r in rows if "study" in r.title.lower() and "4242" in f"{r.number} {r.title}"]
    assert any("4242" in r.number and "4242" not in r.title for r in expected)
    assert sorted(r.id for r in shown(page)) == sorted(r.id for r in expected)
    assert page.count_label.text() == f"{len(expected):,} of 100,000"

    page.set_column_filter("stage", "Board review")
    expected = [r for r in expected if r.stage == "board_review"]
    assert {r.id for r in shown(page)} == {r.id for r in expected}

    page.search.clear()
    page.search.returnPressed.emit()
    page.set_column_filter("agency", "DOL")
    both = [r for r in rows if r.stage == "board_review" and r.agency == "DOL"]
    assert {r.id for r in shown(page)} == {r.id for r in both}

    page.set_drilldown("late", "Received in 2016", lambda r: r.received.year == 2016)
    assert page.chips.count() == 1
    assert {r.id for r in shown(page)} == {r.id for r in both if r.received.year == 2016}
    page.chips.itemAt(0).widget().click()  # the chip's ✕ removes that filter only
    assert {r.id for r in shown(page)} == {r.id for r in both}

    page.set_column_filter("agency", "NOBODY")
    assert page.proxy.rowCount() == 0
    assert page.stack.currentWidget() is page.empty and "No rows match" in page.empty.text()
    page.clear_filters()
    assert page.proxy.rowCount() == 100_000


def test_sort_keeps_selection_and_puts_empty_cells_last(big_list, qtbot):
    page, rows = big_list
    page.table.selectRow(5)
    chosen = page.selected_rows()
    assert len(chosen) == 1
    page.table.sortByColumn(5, Qt.SortOrder.DescendingOrder)  # fee, in cents
    fees = [r.fee_cents for r in shown(page)]
    present = [f for f in fees if f is not None]
    assert present == sorted(present, reverse=True)
    assert fees[len(present):] == [None] * (len(fees) - len(present))  # empty last even when descending
    assert page.selected_rows() == chosen  # the selection followed its row
    page.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    assert [r.number for r in shown(page)[:3]] == ["Q000000", "Q000001", "Q000002"]
    # Filtering a sorted list keeps the sort.
    page.set_column_filter("agency", "OEC")
    numbers = [r.number for r in shown(page)]
    assert numbers == sorted(numbers) and all(r.agency == "OEC" for r in shown(page))



def test_selection_follows_its_row_through_a_search_and_back(big_list, qtbot):
    page, rows = big_list
    page.table.selectRow(70_001)
    chosen = page.selected_rows()
    page.search.setText(chosen[0].number)
    page.search.returnPressed.emit()
    assert shown(page) == chosen and page.selected_rows() == chosen   # kept while its row stays shown
    assert page.table.currentIndex().row() == 0
    page.search.clear()
    page.search.returnPressed.emit()
    assert page.proxy.rowCount() == 100_000 and page.selected_rows() == chosen
    assert page.table.currentIndex().row() == 70_001
    page.set_column_filter("agency", "NOBODY")   # hidden: the selection goes with it
    assert page.selected_rows() == []


HOSTILE = ["=cmd|' /C calc'!A0", "+1+1", "@SUM(A1)", "-2+3", "<b>bold</b> & co", "plain"]


def test_export_neutralises_formulas_and_keeps_text(qtbot, tmp_path):
    rows = [Row(i, f"Q{i}", text, "logged", "SDE", date(2024, 1, 2), -1250 if i == 0 else 1250)
            for i, text in enumerate(HOSTILE)]
    page = ListPage("Hostile", COLUMNS, settings_key="test-hostile")
    qtbot.addWidget(page)
    page.set_rows(rows)

    assert page.export(tmp_path / "out.csv") == len(rows)
    with open(tmp_path / "out.csv", encoding="utf-8-sig", newline="") as stream:
        table = list(csv.reader(stream))
    assert table[0] == [c.title for c in COLUMNS]
    titles = [line[1] for line in table[1:]]
    assert titles == [neutralise_cell(t) for t in HOSTILE]
    assert titles[0].startswith("'=") and titles[1].startswith("'+") and titles[2].startswith("'@")
    assert titles[4] == "<b>bold</b> & co"  # shown literally, never as markup
    assert table[1][5] == "'-$12.50"  # formatted money that starts with '-' is text, so it is neutralised

    page.set_column_filter("stage", "Logged")
    page.search.setText("bold")
    page.search.returnPressed.emit()
    assert page.export(tmp_path / "out.xlsx") == 1  # what is shown, not everything
    sheet = load_workbook(tmp_path / "out.xlsx").active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0][:2] == ["Number", "Title"] and values[1][1] == "<b>bold</b> & co"
    assert not list(tmp_path.glob(".export-*"))  # no temporary file left behind


def test_print_document_escapes_markup(qtbot):
    page = ListPage("Hostile", COLUMNS, settings_key="test-print")
    qtbot.addWidget(page)
    page.set_rows([Row(1, "Q1", "<b>bold</b>", "logged", "SDE", date(2024, 1, 2), 5)])
    text = page.print_document().toPlainText()
    assert "<b>bold</b>" in text  # the tags print as typed


def test_column_layout_is_remembered(qtbot):
    first = ListPage("Requests", COLUMNS, settings_key="test-remember")
    qtbot.addWidget(first)
    first.set_rows(make_rows(50))
    first.table.setColumnWidth(1, 333)
    first.table.sortByColumn(4, Qt.SortOrder.DescendingOrder)
    first.save_state()
    second = ListPage("Requests", COLUMNS, settings_key="test-remember")
    qtbot.addWidget(second)
    second.set_rows(make_rows(50))
    assert second.table.columnWidth(1) == 333
    received = [r.received for r in second.shown_rows()]
    assert received == sorted(received, reverse=True)


def test_export_runs_as_a_job_and_a_cancel_leaves_no_file(big_list, qtbot, tmp_path):
    page, rows = big_list
    page.set_column_filter("agency", "SDE")
    target = tmp_path / "sde.csv"
    job = page.export_in_background(target)
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    with open(target, encoding="utf-8-sig") as stream:
        assert sum(1 for _ in stream) == 1 + sum(1 for r in rows if r.agency == "SDE")

    cancelled = tmp_path / "all.xlsx"
    page.clear_filters()
    job = page.export_in_background(cancelled)
    job.cancel()  # before or during the writing: either way nothing is left behind
    with qtbot.waitSignal(job.finished, timeout=60_000):
        pass
    assert job.error is not None and not cancelled.exists()
    assert not list(tmp_path.glob(".export-*"))
