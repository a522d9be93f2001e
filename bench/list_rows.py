"""Synthetic request-like rows for the generic list (100k and more), shared by tests/views/test_lists.py and
bench/bench_gui.py so that the test and the benchmark exercise the same table."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from app.views.table import Column, cents, humanise

STAGES = ["inquiry", "logged", "drafting", "board_review", "approved", "closed"]
AGENCIES = ["SDE", "DOL", "OEC", "CSCU", "UCONN"]


@dataclass(frozen=True)
class Row:
    id: int
    number: str
    title: str
    stage: str
    agency: str
    received: date
    fee_cents: int | None


COLUMNS = [
    Column("number", "Number", "number"),
    Column("title", "Title", "title"),
    Column("stage", "Stage", "stage", display=humanise, filterable=True),
    Column("agency", "Agency", "agency", filterable=True),
    Column("received", "Received", "received"),
    Column("fee", "Fee", "fee_cents", display=cents),
]


def make_rows(n: int) -> list[Row]:
    start = date(2015, 1, 1)
    return [Row(i, f"Q{i:06d}", f"Outcomes study {i * 7919 % 100_003}", STAGES[i % 6], AGENCIES[i % 5],
                start + timedelta(days=i % 3650), None if i % 11 == 0 else (i * 37) % 500_000)
            for i in range(n)]
