"""OPM and hub stores exchanging real sealed packages: the whole life of a request across the air gap, and
every kind of bad package refused with both stores left exactly as they were."""
from __future__ import annotations

import json
from datetime import date

import pytest

from app.matching.method import load_method
from app.matching.registry import Registry
from app.models import CertificateKind, RequestState, Role
from app.services import Desk
from app.services.errors import PermissionDenied, RuleViolation, ValidationFailed
from app.services.exchange import ExchangeService, PackageRefused

from .conftest import dump, executed_request, hub_matches, make_site, trust_each_other


def _send_work_order(opm, usb):
    return opm.exchange.send("work_order", opm.exchange.work_order(opm.number), usb)


def test_work_order_completion_certificate_then_the_request_closes(pair, usb):
    opm, hub = pair
    number = opm.number

    # OPM -> hub: the work order. The preview shows the change and changes nothing.
    sent = _send_work_order(opm, usb)
    assert sent.path.suffix == ".p20pkg" and sent.package.sequence == 1
    data = sent.path.read_bytes()
    before = dump(hub.store)
    preview = hub.exchange.preview(data)
    assert any(f"create work order {number}" in c for c in preview.changes)
    assert dump(hub.store) == before
    result = hub.exchange.import_package(data)
    assert result.changes == preview.changes and not result.already_imported
    order = hub.desk.requests.get(hub.desk.requests.page(search=number)[0].id)
    assert order.state is RequestState.DSA_EXECUTED and order.title == "Pathways from high school to work"
    assert order.purpose == "Evaluate programme outcomes"
    assert {a.code for a in order.agencies} == {"SDE", "DOL"}
    dsa = hub.desk.agreements.for_request(order.id)
    assert (dsa.effective_on, dsa.destroy_by) == (date(2026, 3, 1), date(2028, 3, 1))

    # Importing the same file again is harmless and says so.
    again = hub.exchange.import_package(data)
    assert again.already_imported and "already imported" in again.message
    assert dump(hub.store) != before  # (the first import did change the store)

    # The hub matches under the work order and moves its copy through its own stages.
    hub_matches(hub, number)
    for stage in (RequestState.EXTRACTS_PREPARED, RequestState.MATCHED):
        hub.desk.requests.move(order.id, stage, on=date(2026, 4, 3))
    # Meanwhile OPM extends the DSA and sends the work order again: the terms update, the hub's stage stays.
    opm_rid = opm.desk.requests.page(search=number)[0].id
    opm.desk.agreements.amend(opm.desk.agreements.for_request(opm_rid).id, effective_on=date(2026, 4, 2),
                              description="Extension of the destroy-by date", new_destroy_by=date(2029, 3, 1))
    update = hub.exchange.import_package(_send_work_order(opm, usb).path.read_bytes())
    assert any("update DSA-" in c and "2029-03-01" in c for c in update.changes)
    assert "DSA amendment 1 of 2026-04-02: Extension of the destroy-by date" in update.changes
    assert hub.desk.agreements.for_request(order.id).destroy_by == date(2029, 3, 1)
    assert hub.desk.requests.get(order.id).state is RequestState.MATCHED

    # The hub reports back.
    completion = hub.exchange.send("completion", hub.exchange.completion(
        number, counts={"matched": 31872, "review": 41, "unmatched": 2087},
        run={"mode": "link", "estimates": {"precision": 0.991}, "field_null_rates": {"left": {"ssn": 1.0}}}), usb)
    got = opm.exchange.import_package(completion.path.read_bytes())
    assert any("moves to Matched" in c for c in got.changes)
    assert opm.desk.requests.get(opm_rid).state is RequestState.MATCHED
    rows = opm.desk.matchlog.page(request_id=opm_rid)
    assert {r.file_name for r in rows} == {"sde_cohort.tsv", "dol_cohort.tsv"}
    assert all(r.matched_on == date(2026, 4, 3) and r.id_matrix_sent_to == "Dr Ada Rep" for r in rows)

    # The hub destroys the inputs and certifies it, with a scan attached.
    for row in hub.desk.matchlog.page():
        hub.desk.matchlog.record_inputs_destroyed(row.id, date(2026, 4, 9))
    cert = hub.exchange.send("destruction_certificate", hub.exchange.destruction_certificate(
        number, certified_by="Hub security officer", statement="Input files securely erased.",
        attachment="certificate.pdf"), usb, attachments={"certificate.pdf": b"%PDF-1.4 signed scan"})
    assert cert.package.sequence == 2
    got = opm.exchange.import_package(cert.path.read_bytes())
    assert opm.desk.requests.get(opm_rid).state is RequestState.INPUTS_DESTROYED
    certificates = opm.desk.matchlog.certificates(opm_rid)
    assert [c.kind for c in certificates] == [CertificateKind.HUB_INPUTS]
    assert opm.desk.documents.content(certificates[0].document_id) == b"%PDF-1.4 signed scan"

    # OPM finishes the life cycle with its own services: the request closes.
    opm.desk.requests.record_disclosure_review(opm_rid, date(2026, 4, 20), "OPM reviewer")
    opm.desk.requests.move(opm_rid, RequestState.RELEASED, on=date(2026, 4, 21))
    opm.desk.requests.move(opm_rid, RequestState.ANALYSIS, on=date(2026, 4, 22))
    opm.desk.matchlog.certify_destruction(opm_rid, CertificateKind.RECIPIENT_DATA, destroyed_on=date(2028, 2, 1),
                                          certified_by="Dr Ada Rep", received_on=date(2028, 2, 2))
    opm.desk.requests.move(opm_rid, RequestState.CLOSED, on=date(2028, 2, 2))
    assert opm.desk.requests.get(opm_rid).state is RequestState.CLOSED

    # Both sides' history shows the packages, and both audit chains verify.
    assert [(p.direction.value, p.kind, p.sequence) for p in opm.exchange.log(request_number=number)] == [
        ("received", "destruction_certificate", 2), ("received", "completion", 1), ("sent", "work_order", 2),
        ("sent", "work_order", 1)]
    assert [(p.direction.value, p.sequence) for p in hub.exchange.log(request_number=number)] == [
        ("sent", 2), ("sent", 1), ("received", 2), ("received", 1)]
    for site in (opm, hub):
        assert site.desk.audit.verify().ok


def test_refused_packages_leave_both_stores_unchanged(pair, usb, tmp_path):
    opm, hub = pair
    first = _send_work_order(opm, usb).path.read_bytes()
    second = opm.exchange.send("work_order", opm.exchange.work_order(opm.number), _second_folder(usb)).path.read_bytes()
    stranger = make_site(tmp_path, "hub-spare", "hub")
    trust_each_other(opm, stranger)
    to_stranger = opm.exchange.send("work_order", opm.exchange.work_order(opm.number), _second_folder(usb, "s"),
                                    peer_id=_peer_id(opm, "HUB-SPARE")).path.read_bytes()
    rogue = make_site(tmp_path, "opm-rogue", "opm")
    rogue.exchange.trust(hub.exchange.public_identity_file(), hub.exchange.identity().fingerprint)
    rogue_number = executed_request(rogue.desk)
    from_rogue = rogue.exchange.send("work_order", rogue.exchange.work_order(rogue_number),
                                     _second_folder(usb, "r")).path.read_bytes()

    tampered = bytearray(first)
    tampered[len(tampered) // 2] ^= 0x20
    cases = [
        (bytes(tampered), "does not verify|altered|hash"),
        (to_stranger, "addressed to HUB-SPARE"),
        (from_rogue, "does not trust"),
        (second, "Expected package 1 from OPM-HARTFORD, got 2"),
    ]
    before_opm, before_hub = dump(opm.store), dump(hub.store)
    for data, message in cases:
        with pytest.raises(PackageRefused, match=message):
            hub.exchange.import_package(data)
        with pytest.raises(PackageRefused, match=message):
            hub.exchange.preview(data)
        assert dump(hub.store) == before_hub and dump(opm.store) == before_opm

    # In order they import; afterwards a re-sealed copy of package 1 (same number, new file) is a replay.
    hub.exchange.import_package(first)
    hub.exchange.import_package(second)
    replay = opm.exchange.save_again(opm.exchange.log()[-1].package_id, _second_folder(usb, "again"))
    before_hub = dump(hub.store)
    assert hub.exchange.import_package(replay.read_bytes()).already_imported
    assert dump(hub.store) == before_hub
    resealed = _reseal_with_sequence(opm, hub, 1)
    with pytest.raises(PackageRefused, match=r"Package 1 from OPM-HARTFORD was already imported on \d{4}-\d\d-\d\d"):
        hub.exchange.import_package(resealed)
    assert dump(hub.store) == before_hub


def test_person_level_data_is_refused_at_export(pair, usb):
    opm, hub = pair
    order = opm.exchange.work_order(opm.number)
    order["request"]["fields_to_link"] = "e.g. SMITH, JOHN 2001-04-05"
    before = dump(opm.store)
    with pytest.raises(PackageRefused, match="person-level data.*name followed by a date"):
        opm.exchange.send("work_order", order, usb)
    order = opm.exchange.work_order(opm.number)
    order["dsa"]["parties"][0]["signatory"] = "123-45-6789"
    with pytest.raises(PackageRefused, match=r"dsa\.parties\[0\]\.signatory: text shaped like a Social Security"):
        opm.exchange.send("work_order", order, usb)
    order = opm.exchange.work_order(opm.number)
    order["matching_files"][0]["first_name"] = "Ana"
    with pytest.raises(PackageRefused, match="first_name: a field named like a personal identifier"):
        opm.exchange.send("work_order", order, usb)
    with pytest.raises(PackageRefused, match="not sealed: attachment name"):
        opm.exchange.send("work_order", opm.exchange.work_order(opm.number), usb, attachments={"../x": b"1"})
    assert dump(opm.store) == before and list(usb.iterdir()) == []


def test_sides_roles_and_confirmation_are_enforced(pair, usb):
    opm, hub = pair
    with pytest.raises(RuleViolation, match="sent by the HUB side"):
        opm.exchange.send("completion", {"request_number": "Q0001"} | _minimal_completion(), usb)
    with pytest.raises(ValidationFailed, match="does not match the identity file"):
        hub.exchange.trust(opm.exchange.public_identity_file(), "11111 22222 33333 44444 55555")
    hub.desk.users.add("auditor1", "An Auditor", Role.AUDITOR)
    auditor = ExchangeService(Desk(hub.store, "auditor1"))
    data = _send_work_order(opm, usb).path.read_bytes()
    with pytest.raises(PermissionDenied):
        auditor.import_package(data)
    with pytest.raises(PermissionDenied, match="may not import packages"):
        auditor.preview(data)


def test_method_approval_registers_the_method_at_the_hub(pair, usb, registry_home):
    opm, hub = pair
    method = load_method()
    document = dict(method.document, version=method.version + 1)
    approval = opm.exchange.method_approval(document, approved_on=date(2026, 2, 10), motion="DGB motion 2026-7")
    sent = opm.exchange.send("method_approval", approval, usb)
    registry = Registry.default()
    assert registry.path.parent == registry_home
    preview = hub.exchange.preview(sent.path.read_bytes())
    assert any("register method" in c for c in preview.changes) and not registry.path.exists()
    hub.exchange.import_package(sent.path.read_bytes())
    approved = [a for a in registry.approvals() if not a.builtin]
    assert [(a.method_id, a.version) for a in approved] == [(method.id, method.version + 1)]
    # The next work order names the newest method whose approval went to the hub.
    order = opm.exchange.work_order(opm.number)
    assert order["method"]["version"] == method.version + 1


# ---- helpers -------------------------------------------------------------------------------------------

def _second_folder(usb, suffix: str = "2"):
    folder = usb.parent / f"usb{suffix}"
    folder.mkdir(exist_ok=True)
    return folder


def _peer_id(site, name: str) -> int:
    return next(p.id for p in site.exchange.peers() if p.name == name)


def _minimal_completion() -> dict:
    return {"received_by": "x", "files": [{"agency": "SDE", "file_name": "a.tsv", "received_on": "2026-04-01",
                                           "fields": [], "rows": None, "sender": "", "stewards_confirmed_at": None}],
            "matched_on": "2026-04-02", "counts": {}, "delivered_on": None, "delivered_to": "", "run": None}


def _reseal_with_sequence(opm, hub, sequence: int) -> bytes:
    """What an attacker holding OPM's keys could not do without them, and OPM itself never does: a second,
    different package under an already used sequence number (built with the real sealing code)."""
    from app.exchange.package import seal
    from app.services.exchange import _identity_of, _public_of
    from app.models.exchange import InstallationIdentity, TrustedPeer

    with opm.store.read_session() as s:
        me = _identity_of(s.get(InstallationIdentity, 1))
        peer = _public_of(s.query(TrustedPeer).filter_by(name="HUB-DOL").one())
    payload = json.loads(json.dumps(opm.exchange.work_order(opm.number), default=str))
    return seal("work_order", payload, sender=me, recipient=peer, sequence=sequence)[1]


def test_revoked_installation_is_refused_until_trusted_again(pair, usb):
    opm, hub = pair
    data = _send_work_order(opm, usb).path.read_bytes()
    hub.exchange.revoke(_peer_id(hub, "OPM-HARTFORD"))
    before = dump(hub.store)
    with pytest.raises(PackageRefused, match="Trust in OPM-HARTFORD was withdrawn on"):
        hub.exchange.import_package(data)
    assert dump(hub.store) == before
    with pytest.raises(RuleViolation, match="No OPM installation is trusted"):
        hub.exchange.send("completion", _minimal_completion() | {"request_number": opm.number}, usb)
    hub.exchange.trust(opm.exchange.public_identity_file(), opm.exchange.identity().fingerprint)
    assert not hub.exchange.import_package(data).already_imported


def test_a_real_run_record_travels_in_a_completion(pair, usb, tmp_path):
    """The hub workspace registers generated files and records a real match; the completion takes that run's
    record and figures by itself, passes the person-data check and arrives intact."""
    from app.services.hub import HubService, check_file, match_files
    from bench.generate import generate

    from .conftest import agency_id

    opm, hub = pair
    hub.exchange.import_package(_send_work_order(opm, usb).path.read_bytes())
    paths = generate("full", 300, seed=11).write(tmp_path / "files")
    workspace = HubService(hub.desk)
    rid = hub.desk.requests.page(search=opm.number)[0].id
    left, right = (workspace.register_file(rid, check_file(paths[side]), sender_agency_id=agency_id(hub.desk, code),
                                           received_on=date(2026, 4, 1)) for side, code in (("left", "SDE"),
                                                                                            ("right", "DOL")))
    record = match_files(workspace.file(left), workspace.file(right), tmp_path / "run")
    workspace.record_run(rid, left, right, tmp_path / "run", record, on=date(2026, 4, 3))

    completion = hub.exchange.completion(opm.number)
    assert completion["run"]["inputs"][0]["sha256"] == record["inputs"][0]["sha256"]
    assert completion["counts"]["left_rows"] == 300
    assert completion["counts"]["matched"] == sum(p["matches"] for p in record["passes"]) > 0
    received = opm.exchange.import_package(hub.exchange.send("completion", completion, usb).path.read_bytes())
    assert any(c.startswith("counts: ") and "left_rows 300" in c for c in received.changes)
    logged = opm.exchange.contents_of(opm.exchange.log()[0].package_id)
    assert logged["run"]["outputs"] == record["outputs"]

    # The workspace destroys the inputs and files its certificate; the package takes its wording.
    workspace.destroy(rid, on=date(2026, 4, 9))
    certificate = hub.exchange.destruction_certificate(opm.number)
    assert certificate["certified_by"] == "hub-dol administrator"
    assert certificate["statement"].startswith("Overwritten and deleted by P20 WIN Desk")
    opm.exchange.import_package(hub.exchange.send("destruction_certificate", certificate, usb).path.read_bytes())
    opm_rid = opm.desk.requests.page(search=opm.number)[0].id
    assert [c.notes for c in opm.desk.matchlog.certificates(opm_rid)] == [certificate["statement"]]


def test_a_rule_broken_halfway_through_applying_changes_nothing(pair, usb):
    """The first file is logged by the match log service, the second breaks its date rule: all rolls back."""
    opm, hub = pair
    hub.exchange.import_package(_send_work_order(opm, usb).path.read_bytes())
    completion = _minimal_completion() | {"request_number": opm.number, "matched_on": "2026-04-02"}
    completion["files"] = [dict(completion["files"][0], fields=["LastName"]),
                           dict(completion["files"][0], agency="DOL", file_name="b.tsv", fields=["SSN"],
                                received_on="2026-04-05")]
    data = hub.exchange.send("completion", completion, usb).path.read_bytes()
    before = dump(opm.store)
    with pytest.raises(ValidationFailed, match="matched on: is before the files were received"):
        opm.exchange.import_package(data)
    assert dump(opm.store) == before
