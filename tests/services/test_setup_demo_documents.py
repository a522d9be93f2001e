"""First-run seeding, demo data, documents, list queries and the benchmark loader."""
from __future__ import annotations

import json
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import text

from app.models import AgencyRole, Channel, Direction, RequestState
from app.resources import resource_path
from app.services import Desk, ServiceError, ValidationFailed
from app.services.demo import build_benchmark, build_demo
from app.services.documents import clean_file_name
from app.services.setup import initialise_store, seed_agencies


def test_first_run_seeds_each_agency_once_with_its_roles(store):
    desk = Desk(store, "admin")
    agencies = {a.code: a for a in desk.agencies.list()}
    listed = json.loads(resource_path("agencies.json").read_text())["agencies"]
    assert len(agencies) == len(listed) == len(seed_agencies()) == 15
    assert sum(a.name == "Department of Social Services" for a in agencies.values()) == 1
    assert sum(a.name == "Office of Higher Education" for a in agencies.values()) == 1
    assert agencies["OPM"].roles == {AgencyRole.OPERATING_GROUP}
    assert agencies["DOL"].roles == {AgencyRole.PARTICIPATING, AgencyRole.HUB}
    assert agencies["CCIC"].short_destruction_window
    assert desk.actor.role.value == "admin" and desk.users.get("admin").display_name == "Test Admin"
    assert desk.audit.verify().ok and desk.audit.count() == 16  # the admin and 15 agencies


def test_a_bad_first_username_is_refused_before_anything_is_created(tmp_path):
    with pytest.raises(ValidationFailed, match="username"):
        initialise_store(tmp_path / "x.p20store", "Bad Name!", "correct horse battery staple", "X")
    assert not (tmp_path / "x.p20store").exists()


def test_a_failed_seed_leaves_no_half_made_store(tmp_path, monkeypatch):
    import app.services.setup as setup

    twice = [{"code": "SDE", "name": "A", "roles": ["participating"]}] * 2
    monkeypatch.setattr(setup, "seed_agencies", lambda: twice)
    path = tmp_path / "half.p20store"
    with pytest.raises(Exception):  # noqa: B017 - whatever the database raises, nothing may remain
        initialise_store(path, "admin", "correct horse battery staple", "X")
    assert sorted(p.name for p in tmp_path.iterdir()) == []


def test_demo_data_covers_every_state_and_verifies(demo_store):
    desk = Desk(demo_store, "admin")
    assert desk.audit.verify().ok
    rows = desk.requests.page(limit=1000)
    assert 38 <= len(rows) <= 45
    assert {r.state for r in rows} == set(RequestState)
    assert len({r.received_on.year for r in rows}) >= 3
    log = desk.requests.request_log()
    assert all(r.ndas_received <= r.ndas_needed for r in log)
    assert len(desk.finance.budgets()) == 3 and desk.finance.invoices() and desk.finance.distributions()
    assert desk.matchlog.count() > 20 and desk.matchlog.certificates()
    assert any(m.motions for m in desk.meetings.list())
    assert {u.username for u in desk.users.list()} == {"admin", "coordinator", "hub", "auditor"}
    assert any(a.warnings for a in desk.agencies.list())  # CCEH has one steward only
    # Every closed request carries the recipient's destruction certificate.
    closed = [r.id for r in rows if r.state is RequestState.CLOSED]
    assert closed and all(any(c.kind.value == "recipient_data" for c in desk.matchlog.certificates(rid)) for rid in closed)


def test_demo_is_deterministic_for_a_seed(fresh_store_file, copy_store, tmp_path):
    logs = []
    for name in ("a", "b"):
        folder = tmp_path / name
        folder.mkdir()
        copy = copy_store(fresh_store_file, folder)
        try:
            build_demo(copy, "admin", seed=7, years=1, as_of=date(2026, 6, 15), requests=6)
            desk = Desk(copy, "admin")
            logs.append((desk.requests.request_log(), [r[1:] for r in desk.finance.budgets()],
                         [(i.number, i.total_cents) for i in desk.finance.invoices()]))
        finally:
            copy.close()
    assert logs[0] == logs[1] and len(logs[0][0]) == 6


def test_documents_round_trip_and_damage_is_detected(store):
    desk = Desk(store, "admin")
    content = bytes(range(256)) * 100
    doc = desk.documents.attach(None, "C:\\Users\\x\\Signed DSA\x07.pdf", content, media_type="application/pdf")
    info = desk.documents.list()[0]
    assert info.name == "Signed DSA.pdf" and info.size == len(content)
    assert desk.documents.content(doc) == content
    with store.session() as s:
        s.execute(text("UPDATE document_contents SET content = :c WHERE document_id = :d"), {"c": b"evil", "d": doc})
    with pytest.raises(ServiceError, match="does not match its checksum"):
        desk.documents.content(doc)
    with pytest.raises(ValidationFailed, match="is empty"):
        desk.documents.attach(None, "empty.txt", b"")
    assert clean_file_name("../../etc/passwd") == "passwd" and clean_file_name(" .. ") == "document"


def test_hostile_text_is_stored_as_given(store):
    desk = Desk(store, "admin")
    hostile = "=cmd()|' <b>bold</b> Ω"
    cid = desk.communications.log(occurred_at=datetime.now(UTC), direction=Direction.INCOMING,
                                  channel=Channel.EMAIL, subject=hostile, summary=hostile)
    row = desk.communications.page()[0]
    assert row.id == cid and row.subject == hostile
    assert desk.communications.count(search="<b>bold") == 1


def test_benchmark_loader_is_paged_and_still_verifies(store):
    build_benchmark(store, "admin", communications=20_000, requests=500)
    desk = Desk(store, "admin")
    assert desk.communications.count() == 20_000 and desk.requests.count() == 500
    page = desk.communications.page(offset=19_990, limit=50)
    assert len(page) == 10 and page[0].occurred_at > page[-1].occurred_at
    assert len(desk.requests.page(offset=100, limit=100)) == 100
    verdict = desk.audit.verify()
    assert verdict.ok and verdict.checked == 18
    with pytest.raises(Exception, match="administrator"):
        desk.users.add("cora", "Cora", "coordinator")
        build_benchmark(store, "cora")


def test_searches_reach_through_to_request_numbers_and_recipient_names(demo_store):
    desk = Desk(demo_store, "admin")
    row = desk.requests.page(states=[RequestState.CLOSED], limit=1)[0]
    assert [r.id for r in desk.requests.page(search=row.recipient[:12])] and all(
        row.recipient[:12].lower() in (r.recipient or "").lower() or row.recipient[:12].lower() in r.title.lower()
        for r in desk.requests.page(search=row.recipient[:12]))
    by_number = desk.communications.page(search=row.number)
    assert by_number and {c.request_number for c in by_number} == {row.number}
    assert desk.communications.count(search=row.number) == len(by_number)
    everything = desk.communications.page(limit=10_000)
    assert [c.id for c in desk.communications.page(offset=5, limit=5)] == [c.id for c in everything[5:10]]
