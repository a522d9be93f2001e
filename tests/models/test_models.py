"""Model-level rules: one complete metadata, readable enum values, timezone-aware times, integer money."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import Integer, text
from sqlalchemy.exc import StatementError

from app.models import Base, Channel, Communication, DataRequest, Direction, RequestState


def test_metadata_holds_every_aggregate():
    expected = {"agencies", "agency_contacts", "data_recipients", "recipient_users", "data_requests",
                "data_elements", "agency_approvals", "meetings", "motions", "votes", "dsas", "dsa_parties",
                "documents", "document_contents", "communications", "budgets", "fee_rules", "invoices", "receipts",
                "fund_distributions", "match_log", "destruction_certificates", "users", "audit_events", "holidays"}
    assert expected <= set(Base.metadata.tables)
    money = [c for t in Base.metadata.tables.values() for c in t.columns if c.name.endswith("_cents")]
    assert money and all(isinstance(c.type, Integer) for c in money)


def test_enums_are_stored_as_their_values_and_times_come_back_utc(store):
    local = timezone(timedelta(hours=-5))
    with store.session() as s:
        s.add(DataRequest(title="t", received_on=date(2025, 1, 1), state=RequestState.BOARD_REVIEW))
        s.add(Communication(occurred_at=datetime(2025, 1, 1, 9, 0, tzinfo=local), direction=Direction.INCOMING,
                            channel=Channel.EMAIL, subject="s", logged_by="admin"))
    with store.session() as s:
        assert s.execute(text("SELECT state FROM data_requests")).scalar_one() == "board_review"
        stored = s.query(Communication).one().occurred_at
        assert stored == datetime(2025, 1, 1, 14, 0, tzinfo=UTC) and stored.tzinfo is UTC


def test_naive_times_are_refused(store):
    with pytest.raises(StatementError, match="timezone-aware"), store.session() as s:
        s.add(Communication(occurred_at=datetime(2025, 1, 1, 9, 0), direction=Direction.INCOMING,
                            channel=Channel.EMAIL, subject="s", logged_by="admin"))
