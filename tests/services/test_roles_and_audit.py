"""Roles are enforced by the services; the audit chain catches edits, deletions and reordering."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from app.models import AuditEvent, Channel, Direction, RecipientType, RequestState, Role
from app.services import Desk, PermissionDenied, RuleViolation


def _count(desk):
    return desk.audit.count()


def test_an_auditor_reads_but_every_edit_is_refused_and_nothing_is_written(world):
    auditor, before = world.auditor, _count(world.admin)
    attempts = [
        lambda: auditor.requests.create("Sneaky", [world.ag["SDE"], world.ag["DOL"]]),
        lambda: auditor.recipients.create("X", RecipientType.NONPROFIT),
        lambda: auditor.agencies.add_contact(world.ag["SDE"], "data_steward", "Someone"),
        lambda: auditor.finance.create_budget(2026),
        lambda: auditor.communications.log(occurred_at=datetime.now(UTC), direction=Direction.INCOMING,
                                           channel=Channel.EMAIL, subject="hi"),
        lambda: auditor.users.add("eve", "Eve", Role.ADMIN),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as err:
            attempt()
        assert "As auditor you may not" in err.value.message
    assert _count(world.admin) == before
    assert auditor.agencies.list() and auditor.audit.verify().ok
    assert next(iter(auditor.audit.export())).id == 1


def test_hub_edits_the_match_log_but_not_requests_and_coordinators_do_not_manage_users(world):
    with pytest.raises(PermissionDenied):
        world.hub.requests.create("Hub request", [world.ag["SDE"], world.ag["DOL"]])
    with pytest.raises(PermissionDenied):
        world.desk.users.add("mallory", "Mallory", Role.ADMIN)
    with pytest.raises(PermissionDenied, match="may not export"):
        next(world.desk.audit.export())


def test_a_deactivated_user_is_refused_at_once(world):
    world.admin.users.set_active("cora", False)
    with pytest.raises(PermissionDenied, match="no longer"):
        world.desk.requests.create("Late", [world.ag["SDE"], world.ag["DOL"]])
    with pytest.raises(PermissionDenied):
        Desk(world.store, "cora")
    with pytest.raises(RuleViolation, match="your own account"):
        world.admin.users.set_active("admin", False)
    with pytest.raises(RuleViolation, match="at least one active administrator"):
        world.admin.users.set_role("admin", Role.COORDINATOR)


def test_on_change_reports_kinds_after_commit_only(world):
    seen = []
    unsubscribe = world.desk.on_change(seen.append)
    rid = world.new_request()
    with pytest.raises(RuleViolation):
        world.desk.requests.move(rid, RequestState.DRAFTING)
    assert seen == [frozenset({"requests", "audit"})]
    with world.desk.batch():
        world.desk.requests.update(rid, title="Renamed")
        world.desk.communications.log(occurred_at=datetime.now(UTC), direction=Direction.OUTGOING,
                                      channel=Channel.PHONE, subject="Call", request_id=rid)
        assert len(seen) == 1  # nothing is announced before the batch commits
    assert seen[-1] == frozenset({"requests", "communications", "audit"})
    unsubscribe()
    world.desk.requests.update(rid, title="Again")
    assert len(seen) == 2


def test_a_failing_batch_leaves_nothing_behind(world):
    before = _count(world.admin)
    with pytest.raises(RuleViolation), world.desk.batch():
        world.new_request()
        world.desk.requests.move(1, RequestState.DRAFTING)  # an inquiry cannot skip logging
    assert _count(world.admin) == before and world.desk.requests.count() == 0


def _tamper(store, sql, **params):
    with store.session() as s:
        s.execute(text(sql), params)


def test_editing_an_audit_row_is_caught_and_named(world):
    assert world.admin.audit.verify().ok
    _tamper(world.store, "UPDATE audit_events SET actor = 'somebody' WHERE id = 5")
    verdict = world.admin.audit.verify()
    assert not verdict.ok and verdict.event_id == 5 and "was edited" in verdict.reason


def test_editing_the_content_and_rehashing_one_row_breaks_the_next_link(world):
    from app.services.audit_chain import event_hash

    with world.store.session() as s:
        row = s.execute(text("SELECT id, at, actor, action, entity, entity_id, before, after, prev_hash "
                             "FROM audit_events WHERE id = 7")).one()
        forged_after = '{"forged":true}'
        at = s.get(AuditEvent, 7).at
        new_hash = event_hash(id=7, at=at, actor=row.actor, action=row.action, entity=row.entity,
                              entity_id=row.entity_id, before=row.before, after=forged_after, prev_hash=row.prev_hash)
        s.execute(text("UPDATE audit_events SET after = :a, hash = :h WHERE id = 7"), {"a": forged_after, "h": new_hash})
    verdict = world.admin.audit.verify()
    assert not verdict.ok and verdict.event_id == 8 and "does not follow #7" in verdict.reason


def test_deleting_a_middle_or_the_last_audit_row_is_caught(world):
    _tamper(world.store, "DELETE FROM audit_events WHERE id = 9")
    verdict = world.admin.audit.verify()
    assert not verdict.ok and verdict.event_id == 10 and "#9 is missing" in verdict.reason


def test_deleting_the_tail_is_caught(world):
    last = world.admin.audit.count()
    _tamper(world.store, "DELETE FROM audit_events WHERE id >= :n", n=last - 1)
    verdict = world.admin.audit.verify()
    assert not verdict.ok and f"#{last - 1}–#{last}" in verdict.reason and "were deleted" in verdict.reason


def test_swapping_two_events_is_caught(world):
    with world.store.session() as s:
        s.execute(text("UPDATE audit_events SET id = -1 WHERE id = 3"))
        s.execute(text("UPDATE audit_events SET id = 3 WHERE id = 4"))
        s.execute(text("UPDATE audit_events SET id = 4 WHERE id = -1"))
    verdict = world.admin.audit.verify()
    assert not verdict.ok and verdict.event_id == 3


def test_an_untouched_store_verifies_after_many_kinds_of_change(world):
    rid = world.new_request()
    world.to(rid, RequestState.DSA_EXECUTED)
    world.desk.documents.attach(rid, "form.pdf", b"%PDF-1.7 test", media_type="application/pdf")
    world.desk.calendar.add_holiday(date(2025, 12, 25), "Christmas Day")
    verdict = world.admin.audit.verify()
    assert verdict.ok and verdict.checked == world.admin.audit.count() > 50
    assert world.admin.audit.page(limit=1, entity="data_requests")[0].action == "transition"


def test_an_event_undone_by_a_savepoint_rollback_does_not_fork_the_chain(world):
    from app.services.audit_chain import append_event, verify_audit_chain

    with world.store.session() as s:
        append_event(s, actor="admin", action="kept", entity="test", entity_id=None)
        try:
            with s.begin_nested():
                append_event(s, actor="admin", action="undone", entity="test", entity_id=None)
                raise RuntimeError("roll this back")
        except RuntimeError:
            pass
        append_event(s, actor="admin", action="after", entity="test", entity_id=None)
    with world.store.read_session() as s:
        assert verify_audit_chain(s).ok
    assert [r.action for r in world.admin.audit.page(limit=2)] == ["after", "kept"]
