"""Whole workflows through the real widgets on a real encrypted store: first run, then one request from
inquiry to closed (approvals, board vote, DSA, fees, destruction certificate)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from PySide6.QtCore import Qt
from views_gui import choose, select_row, submit_form

from app.models import CertificateKind, ExhibitKind, FeeRuleKind, RequestState, Role
from app.services import Desk
from app.store import Store
from app.views.application import FirstRunWizard
from app.views.main_window import MainWindow

S = RequestState
PASSPHRASE = "seven long words make a good passphrase"


def run_first_run_wizard(qtbot, path, tmp_path) -> FirstRunWizard:
    wizard = FirstRunWizard(path)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()
    page = wizard.admin_page
    page.username.setText("Jordan")
    page.display_name.setText("Jordan Smith")
    page.passphrase.setText("short")
    page.confirm.setText("short")
    wizard.next()  # refused by the store's rule: stays on the page with the store's sentence
    assert wizard.currentPage() is page
    assert "at least" in page.error.text() and not path.exists()
    page.passphrase.setText(PASSPHRASE)
    page.confirm.setText(PASSPHRASE + "x")
    wizard.next()
    assert wizard.currentPage() is page and "differ" in page.error.text()
    page.confirm.setText(PASSPHRASE)
    assert page.meter.value() > 50
    wizard.next()  # creates the store (initialise_store)
    assert wizard.currentPage() is wizard.recovery_page
    code = wizard.recovery_page.code.text()
    assert len(code) > 20 and path.exists()
    assert not wizard.button(wizard.WizardButton.FinishButton).isEnabled()  # not before the code is kept
    wizard.recovery_page.save_to(tmp_path / "recovery.txt")
    assert code in (tmp_path / "recovery.txt").read_text(encoding="utf-8")
    assert wizard.button(wizard.WizardButton.FinishButton).isEnabled()
    wizard.accept()
    return wizard


def test_first_run_then_a_request_from_inquiry_to_closed(qtbot, tmp_path, open_window):
    path = tmp_path / "desk.p20store"
    wizard = run_first_run_wizard(qtbot, path, tmp_path)
    store: Store = wizard.store
    assert wizard.username == "jordan"
    window: MainWindow = open_window(store, wizard.username)
    desk: Desk = window.context.desk
    assert desk.actor.role is Role.ADMIN

    # -- a recipient with one data user ------------------------------------------------------------------
    recipients = window.show_screen("recipients")
    submit_form(lambda d: (d.name.setText("Test University <b>"), choose(d.kind, "University"),
                           d.representative.setText("Dr Rep")))
    assert recipients.new_recipient()
    select_row(recipients.list_page, lambda r: r.name == "Test University <b>")
    submit_form(lambda d: d.name.setText("Ana Analyst"))
    assert recipients.add_user()
    assert [u.name for u in recipients.users.model.rows] == ["Ana Analyst"]

    # -- the Data Governing Board: two seats, a noticed meeting, attendance -------------------------------
    meetings = window.show_screen("meetings")
    seated = date.today() - timedelta(days=30)
    for code in ("SDE", "DOL"):
        submit_form(lambda d, c=code: (choose(d.agency, c), d.name.setText(f"Member {c}"),
                                       d.seated.setDate(seated)))
        assert meetings.seat_member()
    submit_form(lambda d: (d.location.setText("Hartford"), d.noticed.setCurrentIndex(1)))
    assert meetings.schedule()
    select_row(meetings.list_page, lambda m: m.location == "Hartford")

    def tick_all(d):
        for i in range(d.members.count()):
            d.members.item(i).setCheckState(Qt.CheckState.Checked)

    submit_form(tick_all)
    assert meetings.record_attendance()
    assert meetings.meeting.quorum.met and "Quorum met: 2 of 2" in meetings.quorum_label.text()

    # -- a fee schedule -------------------------------------------------------------------------------------
    settings = window.show_screen("settings")
    submit_form(lambda d: (d.name.setText("Standard fees"), d.start.setDate(date(2020, 1, 1))))
    assert settings.new_schedule()
    submit_form(lambda d: (choose(d.kind, "Flat"), d.description.setText("Base fee"), d.amount.setValue(750)))
    assert settings.add_rule()
    assert [r.amount_cents for r in settings.rules.model.rows] == [75_000]

    # -- the inquiry ----------------------------------------------------------------------------------------
    requests = window.show_screen("requests")
    errors: list = []
    submit_form(lambda d: None, errors)  # nothing typed: the service names what is missing, inline
    assert requests.new_request() is None
    assert "title" in errors[0]

    def inquiry(d):
        d.title_edit.setText("Early childhood to workforce =cmd()")
        for i in range(d.agency_list.count()):
            if d.agency_list.item(i).text().split(" ")[0] in ("SDE", "DOL"):
                d.agency_list.item(i).setSelected(True)
        choose(d.recipient, "Test University")

    submit_form(inquiry)
    request_id = requests.new_request()
    detail = window.stack.currentWidget()
    assert detail.request_id == request_id and detail.detail.state is S.INQUIRY
    assert requests.list_page.model.rowCount() == 1  # the list refreshed itself from the change broadcast

    def move(label: str) -> None:
        assert detail.move(next(o for o in desk.requests.transitions(request_id) if o.label == label)), \
            detail.blocked.text()

    detail.transition_buttons["Logged"].click()
    assert detail.detail.state is S.LOGGED and detail.detail.number == "Q0001"
    move("Drafting")

    # Overview text typed and saved; elements with their justification; the data user named.
    detail.overview_edits["purpose"].setPlainText("Evaluate the pre-K programme")
    detail.overview_edits["legal_basis"].setPlainText("FERPA audit/evaluation")
    assert detail.has_unsaved_changes()
    assert detail.save() and not detail.has_unsaved_changes()
    for code in ("SDE", "DOL"):
        submit_form(lambda d, c=code: (choose(d.agency, c), d.name.setText(f"{c} identifiers"),
                                       d.justification.setPlainText("Needed to link the cohort")))
        assert detail.add_element()
    assert len(detail.elements_table.model.rows) == 2
    submit_form(lambda d: d.users.item(0).setCheckState(Qt.CheckState.Checked))
    assert detail.name_users()
    assert "Ana Analyst (NDA missing)" in detail.people.text()
    move("Board review")

    # -- approvals by each agency and the board's vote -----------------------------------------------------
    for code in ("SDE", "DOL"):
        submit_form(lambda d, c=code: (choose(d.agency, c), d.by.setText(f"{c} steward")))
        assert detail.record_approval()
    assert all(a.approved for a in detail.approvals_table.model.rows)
    meetings = window.show_screen("meetings")
    select_row(meetings.list_page, lambda m: m.location == "Hartford")
    submit_form(lambda d: (choose(d.kind, "Request approval"), d.text.setPlainText("Approve Q0001"),
                           choose(d.request, "Q0001")))
    assert meetings.add_motion()
    select_row(meetings.motions, lambda m: True)
    submit_form(lambda d: None)  # every present member votes yes by default
    assert meetings.record_votes()
    assert meetings.motions.model.rows[0].outcome.passed
    detail = window.open_request(request_id)
    move("Approved")

    # -- the DSA: drafted, Exhibit A, every party signs, executed -----------------------------------------
    submit_form(lambda d: None)
    assert detail.draft_dsa()
    submit_form(lambda d: (choose(d.kind, "Request form"), d.name.setText("Exhibit A")))
    assert detail.add_exhibit()
    for party in list(detail.parties_table.model.rows):
        select_row(detail.parties_table, lambda p, pid=party.id: p.id == pid)
        submit_form(lambda d, p=party: d.who.setText(f"Signer for {p.label}"))
        assert detail.sign_selected_party()
    assert all(p.signed_on for p in detail.parties_table.model.rows)
    assert [e.kind for e in detail.dsa.exhibits] == [ExhibitKind.REQUEST_FORM]
    move("DSA executed")

    # -- fees: invoice priced by the schedule, issued, paid --------------------------------------------------
    submit_form(lambda d: (d.hours.setValue(10), d.sets.setValue(2), d.cohort.setValue(3000)))
    assert detail.new_invoice()
    invoice = detail.fees_table.model.rows[0]
    assert invoice.total_cents == 75_000
    select_row(detail.fees_table, lambda i: True)
    submit_form(lambda d: None)
    assert detail.issue_invoice()
    select_row(detail.fees_table, lambda i: True)
    submit_form(lambda d: d.reference.setText("cheque 1001"))  # the outstanding amount is proposed
    assert detail.record_payment()
    assert detail.fees_table.model.rows[0].outstanding_cents == 0

    # -- the hub's stages (its own workspace is another screen): through the services as the hub ----------
    desk.users.add("hank", "Hank Hub", Role.HUB)
    hub = Desk(store, "hank")
    today = date.today()
    agencies = [a.agency_id for a in detail.detail.agencies]
    for agency_id in agencies:
        hub.matchlog.log_files(request_id, sender_agency_id=agency_id, files_received_on=today,
                               file_name=f"match-{agency_id}.txt", fields_included=["LastName", "DOB"])
    hub.requests.move(request_id, S.EXTRACTS_PREPARED)
    entries = hub.matchlog.page(request_id=request_id)
    for entry in entries:
        hub.matchlog.record_match(entry.id, today)
    hub.requests.move(request_id, S.MATCHED)
    for entry in entries:
        hub.matchlog.confirm_match(entry.id, datetime.now(UTC))
        hub.matchlog.record_inputs_destroyed(entry.id, today)
    hub.matchlog.certify_destruction(request_id, CertificateKind.HUB_INPUTS, destroyed_on=today,
                                     certified_by="Hank Hub", received_on=today)
    hub.requests.move(request_id, S.INPUTS_DESTROYED)
    detail.refresh()
    assert detail.detail.state is S.INPUTS_DESTROYED
    assert len(detail.match_table.model.rows) == 2

    # -- release: NDA on file, disclosure review ------------------------------------------------------------
    blocked = next(o for o in desk.requests.transitions(request_id) if o.label == "Released")
    assert not blocked.ok and "NDA" in blocked.reason
    recipients = window.show_screen("recipients")
    select_row(recipients.list_page, lambda r: r.name == "Test University <b>")
    select_row(recipients.users, lambda u: u.name == "Ana Analyst")
    submit_form(lambda d: None)
    assert recipients.record_nda()
    detail = window.open_request(request_id)
    submit_form(lambda d: d.by.setText("OPM reviewer"))
    assert detail.record_review()
    move("Released")
    for entry in entries:
        hub.matchlog.record_id_matrix_sent(entry.id, today, "Dr Rep")
    move("Analysis")

    # -- closing needs the recipient's destruction certificate ---------------------------------------------
    detail.refresh()
    closing = next(o for o in desk.requests.transitions(request_id) if o.label == "Closed")
    assert not detail.move(closing)
    assert detail.blocked.isVisible() and "destruction certificate" in detail.blocked.text()
    submit_form(lambda d: (choose(d.kind, "Recipient data"), d.by.setText("Dr Rep")))
    assert detail.file_certificate()
    move("Closed")
    assert detail.detail.state is S.CLOSED
    assert not detail.transition_buttons  # nothing further is offered
    assert [h.to_state for h in detail.detail.history][-1] is S.CLOSED

    # -- every step was audited and the chain verifies (as a background job) -------------------------------
    audit = window.show_screen("audit")
    with qtbot.waitSignal(audit.verify_chain().finished, timeout=20_000):
        pass
    assert audit.verdict.text().startswith("Chain intact")
    assert audit.list_page.model.rowCount() > 40


def test_illegal_transition_shows_the_services_reason(qtbot, store, open_window):
    window = open_window(store, "admin")
    desk = window.context.desk
    agencies = {a.code: a.id for a in desk.agencies.list()}
    request_id = desk.requests.create("Only one agency", [agencies["SDE"]])
    detail = window.open_request(request_id)
    button = detail.transition_buttons["Logged"]
    assert "⚠" in button.text() and "at least two" in button.toolTip()  # offered, marked blocked, with why
    button.click()
    assert detail.blocked.isVisible()
    assert "at least two" in detail.blocked.text()
    assert desk.requests.get(request_id).state is S.INQUIRY  # the service refused; nothing changed
