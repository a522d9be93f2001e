"""The smaller service methods each do what they say, audit it, and refuse bad input with a clear message."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from app.models import AgencyRole, Board, ContactKind, RecipientType, RequestState, Role
from app.services import NotFound, RuleViolation, ValidationFailed


def test_agency_roles_contacts_and_steward_warning(world):
    a = world.desk.agencies
    sde = world.ag["SDE"]
    a.update(sde, roles=[AgencyRole.PARTICIPATING, AgencyRole.HUB], notes="Second hub for a pilot")
    assert a.get(sde).roles == {AgencyRole.PARTICIPATING, AgencyRole.HUB}
    a.update(sde, roles=[AgencyRole.PARTICIPATING])
    assert a.get(sde).roles == {AgencyRole.PARTICIPATING} and a.get(sde).notes == "Second hub for a pilot"
    assert "at least 2 are expected" in a.get(sde).warnings[0]
    first = a.add_contact(sde, ContactKind.DATA_STEWARD, "Steward One", email="one@example.ct.gov")
    a.add_contact(sde, ContactKind.DATA_STEWARD, "Steward Two")
    assert a.get(sde).warnings == ()
    a.deactivate_contact(first)
    assert a.get(sde).stewards == 1
    with pytest.raises(ValidationFailed) as err:
        a.add_contact(sde, ContactKind.LEGAL, "Counsel", email="not an address")
    assert "email" in err.value.fields
    with pytest.raises(ValidationFailed, match="already used"):
        a.create("sde", "Duplicate")
    with pytest.raises(NotFound):
        a.by_code("NOPE")


def test_recipients_update_and_departures(world):
    r = world.desk.recipients
    r.update(world.recipient, name="Renamed University", recipient_type=RecipientType.NONPROFIT)
    info = r.get(world.recipient)
    assert (info.name, info.recipient_type, info.users) == ("Renamed University", RecipientType.NONPROFIT, 2)
    with pytest.raises(ValidationFailed, match="cannot be changed here"):
        r.update(world.recipient, agency_id=1)
    with pytest.raises(ValidationFailed, match="before the departure"):
        r.record_departure(world.users[0], date(2025, 5, 2), date(2025, 5, 1))
    assert all(u.nda_outstanding for u in r.users(world.recipient))


def test_amendments_extend_the_destroy_by_date(world):
    rid = world.new_request()
    world.to(rid, RequestState.DSA_EXECUTED)
    g = world.desk.agreements
    dsa = g.for_request(rid)
    assert (dsa.ndas_needed, dsa.ndas_received) == (2, 0)
    assert g.amend(dsa.id, effective_on=date(2026, 1, 1), description="Replace an analyst") == 1
    assert g.amend(dsa.id, effective_on=date(2026, 2, 1), description="One-year extension",
                   new_destroy_by=date(2028, 1, 1)) == 2
    detail = g.get(dsa.id)
    assert detail.destroy_by == date(2028, 1, 1) and [a.number for a in detail.amendments] == [1, 2]
    assert g.list()[0].signed == g.list()[0].parties == 5
    with pytest.raises(RuleViolation, match="under board review or approved"):
        g.draft(rid)


def test_holidays_documents_and_cancelled_meetings(world):
    d = world.desk
    d.calendar.add_holiday(date(2025, 7, 4), "Independence Day")
    d.calendar.add_holiday(date(2025, 7, 4), "Fourth of July")
    assert d.calendar.holidays() == [(date(2025, 7, 4), "Fourth of July")]
    d.calendar.remove_holiday(date(2025, 7, 4))
    assert d.calendar.holidays() == []
    doc = d.documents.attach(None, "a.txt", b"x", media_type="text/plain")
    d.documents.rename(doc, "sub/dir/b.txt")
    assert d.documents.list()[0].name == "b.txt"
    meeting = d.meetings.schedule(Board.DGB, datetime(2025, 9, 11, 14, tzinfo=UTC),
                                  notice_posted_on=date(2025, 9, 1)).meeting_id
    d.meetings.cancel(meeting)
    with pytest.raises(RuleViolation, match="cancelled"):
        d.meetings.add_motion(meeting, "policy", "Anything")
    d.meetings.end_seat(world.members[2], date(2025, 3, 1))
    assert len(d.meetings.members(Board.DGB, on=date(2025, 4, 10))) == 2
    assert world.admin.audit.verify().ok


def test_users_roles_are_admin_business(world):
    u = world.admin.users
    u.set_role("cora", Role.AUDITOR)
    assert u.get("cora").role is Role.AUDITOR
    with pytest.raises(ValidationFailed, match="already exists"):
        u.add("CORA", "Another Cora", Role.HUB)
    with pytest.raises(ValidationFailed, match="lower-case"):
        u.add("x", "Too short", Role.HUB)
    u.set_active("cora", False)
    u.set_active("cora", True)
    assert [e.action for e in world.admin.audit.page(entity="users", limit=3)] == ["activate", "deactivate", "set_role"]
