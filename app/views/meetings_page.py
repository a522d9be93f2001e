"""Meetings & Votes: board meetings, attendance with the computed quorum, motions and their outcomes.

Quorum and outcomes are the services' (``desk.meetings``): this screen only shows them.
"""
from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QDateTime, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateTimeEdit,
    QLabel,
    QLineEdit,
    QTextEdit,
    QWidget,
)

from app.models import Board, MotionKind, VoteChoice
from app.views.list_page import ListPage
from app.views.request_detail import SimpleTable
from app.views.style import LATE_COLOUR, OK_COLOUR
from app.views.table import Column, humanise
from app.views.widgets import CheckList, FormDialog, call_service, date_edit, enum_combo, heading, list_over_detail

BOARD_NAMES = {Board.DGB: "Data Governing Board", Board.EXECUTIVE: "Executive Board"}

MEETING_COLUMNS = [
    Column("when", "When", "starts_at", width=140),
    Column("board", "Board", lambda m: BOARD_NAMES.get(m.board, humanise(m.board.value)), filterable=True, width=180),
    Column("location", "Location", "location", width=260),
    Column("notice", "Notice posted", "notice_posted_on", width=120),
    Column("motions", "Motions", "motions", width=80),
    Column("status", "Status", lambda m: "Cancelled" if m.cancelled else (
        "Upcoming" if m.starts_at > datetime.now(m.starts_at.tzinfo) else "Held"), filterable=True, width=100),
]


def _outcome(motion) -> str:
    o = motion.outcome
    return f"{'Passed' if o.passed else 'Not passed'} — {o.reason}"


class MeetingsPage(QWidget):
    watches = frozenset({"meetings"})
    title = "Meetings & Votes"

    def __init__(self, context, window):
        super().__init__()
        self.context = context
        self.meeting = None
        self.list_page = ListPage("Meetings & Votes", MEETING_COLUMNS, settings_key="meetings",
                                  empty_text="No board meetings recorded. Schedule the next one.")
        if context.can_edit:
            self.list_page.add_action("Board members…", self.seat_member)
            self.list_page.add_action("Schedule meeting…", self.schedule, primary=True)
        self.detail_title = heading("Select a meeting to see attendance, quorum and votes.")
        self.quorum_label = QLabel(wordWrap=True)
        self.quorum_label.setTextFormat(Qt.TextFormat.PlainText)
        self.quorum_label.setAccessibleName("Quorum")
        self.motions = SimpleTable([
            Column("kind", "Motion", "kind", width=150),
            Column("text", "Text", "text", width=330),
            Column("yes", "Yes", lambda m: m.outcome.yes, width=50),
            Column("no", "No", lambda m: m.outcome.no, width=50),
            Column("abstain", "Abstain", lambda m: m.outcome.abstain, width=70),
            Column("outcome", "Outcome", _outcome, width=360,
                   foreground=lambda text: OK_COLOUR if text.startswith("Passed") else LATE_COLOUR),
        ], "No motions at this meeting.")
        actions = (("Record attendance…", self.record_attendance), ("Add motion…", self.add_motion),
                   ("Record votes…", self.record_votes), ("Post notice…", self.post_notice)) if context.can_edit else ()
        list_over_detail(self, self.list_page, [self.detail_title, self.quorum_label, self.motions], actions,
                         (420, 320))
        self.list_page.selection_changed.connect(self._show_selected)
        self.refresh()

    def refresh(self) -> None:
        self.list_page.set_rows(self.context.desk.meetings.list())
        self._show_selected()

    def _show_selected(self) -> None:
        row = self.list_page.current_row()
        if row is None:
            self.meeting = None
            self.detail_title.setText("Select a meeting to see attendance, quorum and votes.")
            self.quorum_label.clear()
            self.motions.set_rows([])
            return
        ok, meeting = call_service(self, lambda: self.context.desk.meetings.get(row.id))
        if not ok:
            return
        self.meeting = meeting
        q = meeting.quorum
        when = meeting.starts_at.astimezone().strftime("%Y-%m-%d %H:%M")
        self.detail_title.setText(f"{BOARD_NAMES.get(meeting.board, meeting.board.value)} · {when}")
        present = ", ".join(m.agency_code for m in meeting.members if m.id in meeting.present) or "nobody recorded"
        text = (f"Quorum {'met' if q.met else 'NOT met'}: {q.present} of {q.members} seated members present "
                f"({q.required} needed, two thirds). Present: {present}.")
        if meeting.notice_warning:
            text += f"\n{meeting.notice_warning}"
        if meeting.cancelled:
            text = "Cancelled. " + text
        self.quorum_label.setText(text)
        self.motions.set_rows(list(meeting.motions))

    # -- actions ------------------------------------------------------------------------------------------
    def schedule(self) -> bool:
        def submit(dialog: FormDialog):
            starts = dialog.when.dateTime().toPython().astimezone()
            notice = dialog.notice.date().toPython() if dialog.noticed.currentData() else None
            return self.context.desk.meetings.schedule(dialog.board.currentData(), starts, notice_posted_on=notice,
                                                       location=dialog.location.text())

        dialog = FormDialog(self, "Schedule a board meeting", submit)
        dialog.board = QComboBox()
        for board, name in BOARD_NAMES.items():
            dialog.board.addItem(name, board)
        dialog.row("Board", "board", dialog.board)
        dialog.when = QDateTimeEdit(QDateTime.currentDateTime().addDays(14), calendarPopup=True)
        dialog.when.setDisplayFormat("yyyy-MM-dd HH:mm")
        dialog.row("Starts at", "starts_at", dialog.when)
        dialog.location = dialog.row("Location", "location", QLineEdit())
        dialog.noticed = QComboBox()
        dialog.noticed.addItem("Not posted yet", False)
        dialog.noticed.addItem("Posted on the date below", True)
        dialog.row("Public notice", "notice", dialog.noticed)
        dialog.notice = dialog.row("Notice posted on", "notice_posted_on", date_edit())
        self.last_dialog = dialog
        if dialog.exec() and dialog.result_value is not None and dialog.result_value.warnings:
            self.context_warning("\n".join(dialog.result_value.warnings))
        return dialog.result() == FormDialog.DialogCode.Accepted

    def seat_member(self) -> bool:
        """Seat a person on a board for an agency (quorum counts the seats filled on a meeting's day)."""
        agencies = self.context.desk.agencies.list()

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.meetings.add_member(dialog.board.currentData(), dialog.agency.currentData(),
                                                         dialog.name.text(), dialog.seated.date().toPython())

        dialog = FormDialog(self, "Seat a board member", submit)
        dialog.board = QComboBox()
        for board, name in BOARD_NAMES.items():
            dialog.board.addItem(name, board)
        dialog.row("Board", "board", dialog.board)
        dialog.agency = QComboBox()
        for agency in agencies:
            dialog.agency.addItem(f"{agency.code} — {agency.name}", agency.id)
        dialog.row("For agency", "agency_id", dialog.agency)
        dialog.name = dialog.row("Name", "name", QLineEdit())
        dialog.seated = dialog.row("Seated on", "seated_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def context_warning(self, text: str) -> None:
        window = self.window()
        if hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, 10000)

    def post_notice(self) -> bool:
        if self.meeting is None:
            return False
        meeting_id = self.meeting.id
        dialog = FormDialog(self, "Public notice posted",
                            lambda d: self.context.desk.meetings.post_notice(meeting_id, d.on.date().toPython()))
        dialog.on = dialog.row("Posted on", "posted_on", date_edit())
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_attendance(self) -> bool:
        if self.meeting is None:
            return False
        meeting = self.meeting

        def submit(dialog: FormDialog):
            return self.context.desk.meetings.record_attendance(meeting.id, dialog.members.checked_ids())

        dialog = FormDialog(self, "Who was present", submit)
        dialog.members = CheckList((f"{member.agency_code} — {member.name}", member.id, member.id in meeting.present)
                                   for member in meeting.members)
        dialog.row("Members seated that day", "present_member_ids", dialog.members)
        self.last_dialog = dialog
        return bool(dialog.exec())

    def add_motion(self) -> bool:
        if self.meeting is None:
            return False
        meeting = self.meeting
        requests = self.context.desk.requests.page(limit=10_000)
        agencies = self.context.desk.agencies.list()

        def submit(dialog: FormDialog) -> int:
            return self.context.desk.meetings.add_motion(
                meeting.id, dialog.kind.currentData(), dialog.text.toPlainText(),
                request_id=dialog.request.currentData(), agency_id=dialog.agency.currentData())

        dialog = FormDialog(self, "New motion", submit)
        dialog.kind = dialog.row("Kind", "kind", enum_combo(MotionKind))
        dialog.text = QTextEdit()
        dialog.text.setAcceptRichText(False)
        dialog.text.setMaximumHeight(80)
        dialog.row("Text", "text", dialog.text)
        dialog.request = QComboBox()
        dialog.request.addItem("(none)", None)
        for r in requests:
            dialog.request.addItem(f"{r.number or 'inquiry'} — {r.title}", r.id)
        dialog.row("About request", "request_id", dialog.request)
        dialog.agency = QComboBox()
        dialog.agency.addItem("(none)", None)
        for a in agencies:
            dialog.agency.addItem(f"{a.code} — {a.name}", a.id)
        dialog.row("About agency", "agency_id", dialog.agency)
        self.last_dialog = dialog
        return bool(dialog.exec())

    def record_votes(self, motion=None) -> bool:
        if self.meeting is None:
            return False
        motion = motion or self.motions.selected()
        if motion is None:
            self.context_warning("Select the motion first.")
            return False
        meeting = self.meeting
        present = [m for m in meeting.members if m.id in meeting.present]
        recorded = dict(motion.votes)

        def submit(dialog: FormDialog):
            votes = {member_id: combo.currentData() for member_id, combo in dialog.choices.items()
                     if combo.currentData() is not None}
            return self.context.desk.meetings.record_votes(motion.id, votes)

        dialog = FormDialog(self, "Votes", submit)
        dialog.choices = {}
        for member in present:
            combo = enum_combo(VoteChoice, recorded.get(member.id, VoteChoice.YES), allow_none="(no vote)")
            dialog.choices[member.id] = dialog.row(f"{member.agency_code} — {member.name}", f"member_{member.id}", combo)
        if not present:
            dialog.form.addRow(QLabel("Record attendance first: only members present vote.", objectName="muted"))
        self.last_dialog = dialog
        return bool(dialog.exec())
