"""The Hub workspace screen: a request picker over six tabs, in the order the work is done."""
from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from app.models import RequestState
from app.services.hub import HubService
from app.views.hub.deliver import DeliverTab
from app.views.hub.intake import IntakeTab
from app.views.hub.log import LogTab
from app.views.hub.match import MatchTab
from app.views.hub.results import ResultsTab
from app.views.hub.review import ReviewTab

# Requests the hub may still have work for (intake is refused by the service for those without a DSA).
_CLOSED = {RequestState.DENIED, RequestState.WITHDRAWN, RequestState.CLOSED}


class HubPage(QWidget):
    """``(context, window)`` like every screen. Working files go to ``hub-work/`` beside the store."""

    watches = frozenset({"matchlog", "requests"})
    title = "Hub workspace"

    def __init__(self, context, window):  # noqa: ANN001
        super().__init__()
        self.context = context
        self.hub = HubService(context.desk)
        self.work_root = context.store_path.parent / "hub-work"
        self.requests = QComboBox()
        self.requests.setAccessibleName("Request")
        self.requests.setMinimumWidth(420)
        self.requests.currentIndexChanged.connect(lambda _: self._request_changed())
        top = QHBoxLayout()
        top.addWidget(QLabel("Hub workspace", objectName="pageTitle"))
        top.addStretch(1)
        top.addWidget(QLabel("Request:"))
        top.addWidget(self.requests)
        self.tabs = QTabWidget()
        self.intake, self.match, self.review = IntakeTab(self), MatchTab(self), ReviewTab(self)
        self.results, self.deliver, self.log = ResultsTab(self), DeliverTab(self), LogTab(self)
        for tab, name in ((self.intake, "1 Intake"), (self.match, "2 Match"), (self.review, "3 Review"),
                          (self.results, "4 Results"), (self.deliver, "5 Deliver"),
                          (self.log, "6 Match log && destruction")):
            self.tabs.addTab(tab, name)
        self.tabs.currentChanged.connect(lambda _: self.tabs.currentWidget().refresh())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self._load_requests()

    def request_id(self) -> int | None:
        return self.requests.currentData()

    def request_number(self) -> str:
        return self.requests.currentText().split(" ", 1)[0] or "request"

    def select_request(self, request_id: int) -> None:
        index = self.requests.findData(request_id)
        if index >= 0:
            self.requests.setCurrentIndex(index)

    def refresh(self) -> None:
        self._load_requests()
        self.tabs.currentWidget().refresh()

    def _load_requests(self) -> None:
        current = self.request_id()
        rows = [r for r in self.context.desk.requests.page(limit=1000) if r.number and r.state not in _CLOSED]
        self.requests.blockSignals(True)
        self.requests.clear()
        for r in rows:
            self.requests.addItem(f"{r.number}  {r.title}  ({r.state.value.replace('_', ' ')})", r.id)
        if current is not None and self.requests.findData(current) >= 0:
            self.requests.setCurrentIndex(self.requests.findData(current))
        self.requests.blockSignals(False)
        if current != self.request_id():
            self._request_changed()

    def _request_changed(self) -> None:
        for n in range(self.tabs.count()):
            self.tabs.widget(n).request_changed()

    def busy(self) -> bool:
        return self.match.busy()

    def stop_work(self) -> None:
        self.match.stop_work()
