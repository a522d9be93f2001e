"""The Audit log: every audited change, filterable, with "Verify chain" run as a background job."""
from __future__ import annotations

import json

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from app.jobs import Job
from app.views.list_page import ListPage
from app.views.style import LATE_COLOUR, OK_COLOUR
from app.views.table import Column, humanise


_BOOKKEEPING = frozenset({"id", "created_at", "updated_at"})  # in every record; the # and Id columns show ids


def describe_change(event) -> str:
    """An audit event's before/after JSON as a readable line: ``state: drafting → board_review; …``."""
    try:
        before = json.loads(event.before) if event.before else {}
        after = json.loads(event.after) if event.after else {}
    except (TypeError, ValueError):
        return event.after or event.before or ""
    if not isinstance(before, dict) or not isinstance(after, dict):
        return event.after or event.before or ""
    if before and after:
        parts = [f"{k}: {_short(before.get(k))} → {_short(after.get(k))}" for k in after if k not in _BOOKKEEPING]
    elif after:
        parts = [f"{k}: {_short(v)}" for k, v in after.items() if v not in (None, "", [], {}) and k not in _BOOKKEEPING]
    else:
        parts = ["removed: " + "; ".join(f"{k}: {_short(v)}" for k, v in before.items() if v not in (None, ""))]
    return "; ".join(parts)


def _short(value) -> str:
    text = "—" if value is None else str(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _plain_number(value) -> str:
    return "" if value is None else str(value)


AUDIT_COLUMNS = [
    Column("id", "#", "id", display=_plain_number, width=70),
    Column("at", "When", "at", width=140),
    Column("actor", "Who", "actor", filterable=True, width=110),
    Column("action", "Action", "action", display=humanise, filterable=True, width=130),
    Column("entity", "What", "entity", display=humanise, filterable=True, width=170),
    Column("entity_id", "Id", "entity_id", display=_plain_number, width=60),
    Column("after", "Change", describe_change, width=480,
           tooltip=lambda e: f"Before: {e.before or '—'}\nAfter: {e.after or '—'}"),
    Column("hash", "Hash", lambda e: e.hash[:12], width=110),
]


class AuditPage(QWidget):
    watches = frozenset({"audit"})
    title = "Audit log"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.list_page = ListPage("Audit log", AUDIT_COLUMNS, settings_key="audit",
                                  empty_text="No audited changes yet.")
        self.verify_button = self.list_page.add_action("Verify chain", self.verify_chain)
        self.verdict = QLabel(objectName="infoBanner", wordWrap=True)
        self.verdict.setTextFormat(Qt.TextFormat.PlainText)
        self.verdict.setAccessibleName("Audit chain verdict")
        self.verdict.hide()
        self.list_page.layout().insertWidget(1, self.verdict)
        self.job: Job | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list_page)
        self.refresh()

    def refresh(self) -> None:
        audit = self.context.desk.audit
        self.list_page.set_rows(audit.page(limit=max(1, audit.count())))

    def verify_chain(self) -> Job:
        """Re-check every event's hash link off the GUI thread; the verdict appears above the table."""
        self.verify_button.setEnabled(False)
        self.verdict.setText("Verifying the audit chain…")
        self.verdict.setStyleSheet("")
        self.verdict.show()
        audit = self.context.desk.audit
        self.job = (Job(self, lambda ctx: audit.verify(), title="Verifying the audit chain")
                    .success(self._show_verdict).failure(self._failed).run_in_background())
        return self.job

    def _show_verdict(self, verdict) -> None:
        self.verify_button.setEnabled(True)
        sound = verdict.ok
        where = f" at event #{verdict.event_id}" if verdict.event_id is not None else ""
        self.verdict.setText(f"{'Chain intact' if sound else 'Chain BROKEN'}: {verdict.checked:,} events checked{where}; "
                             f"{verdict.reason}.")
        self.verdict.setStyleSheet(f"color: {OK_COLOUR if sound else LATE_COLOUR};")

    def _failed(self, error: BaseException) -> None:
        self.verify_button.setEnabled(True)
        self.verdict.setText(getattr(error, "message", None) or "The chain could not be verified.")
        self.verdict.setStyleSheet(f"color: {LATE_COLOUR};")
