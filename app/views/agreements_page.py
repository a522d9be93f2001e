"""The Agreements screen: every data sharing agreement with its signatures and destroy-by date."""
from __future__ import annotations

from PySide6.QtWidgets import QVBoxLayout, QWidget

from app.views.list_page import ListPage
from app.views.table import Column


def _status(row) -> str:
    if row.executed_on is not None:
        return "Executed"
    return f"Signing ({row.signed} of {row.parties})"


AGREEMENT_COLUMNS = [
    Column("number", "DSA", "number", width=100),
    Column("request", "Request", "request_number", width=80),
    Column("title", "Request title", "request_title", width=320),
    Column("status", "Status", _status, filterable=True, width=130),
    Column("signed", "Signatures", lambda r: f"{r.signed} / {r.parties}", width=90),
    Column("effective", "Effective", "effective_on", width=95),
    Column("executed", "Executed", "executed_on", width=95),
    Column("destroy_by", "Destroy by", "destroy_by", width=95),
]


class AgreementsPage(QWidget):
    watches = frozenset({"agreements", "requests"})
    title = "Agreements"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.list_page = ListPage("Agreements", AGREEMENT_COLUMNS, settings_key="agreements",
                                  empty_text="No data sharing agreements yet. A DSA is drafted from an approved "
                                             "request's Agreement tab.")
        self.list_page.activated.connect(lambda row: window.open_request(row.request_id))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list_page)
        self.refresh()

    def refresh(self) -> None:
        self.list_page.set_rows(self.context.desk.agreements.list())
