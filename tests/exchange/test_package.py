"""The sealed package format and identity files, with real keys and real ciphertext."""
from __future__ import annotations

import base64
import json
import struct
from datetime import UTC, datetime

import pytest

from app.exchange.errors import BadSignature, ExchangeError, MalformedFile, NotForThisInstallation
from app.exchange.identity import Identity, identity_file_bytes, normalise_fingerprint, parse_identity_file
from app.exchange.jsonio import canonical_json
from app.exchange.package import (
    MAGIC,
    MAX_BODY_BYTES,
    MAX_MANIFEST_BYTES,
    check_addressed_to,
    open_envelope,
    read_envelope,
    read_payload,
    seal,
)


@pytest.fixture(scope="module")
def opm() -> Identity:
    return Identity.generate("OPM-HARTFORD", "opm")


@pytest.fixture(scope="module")
def hub() -> Identity:
    return Identity.generate("HUB-DOL", "hub")


def test_round_trip_with_attachment(opm, hub):
    payload = {"request": {"number": "Q0042", "title": "Pathways <b>=cmd()</b> é"}}
    manifest, data = seal("work_order", payload, sender=opm, recipient=hub.public(), sequence=3,
                          attachments={"certificate.pdf": b"%PDF-1.7 fake"})
    env = read_envelope(data)
    assert env.manifest == manifest
    contents = open_envelope(env, sender=opm.public(), me=hub)
    assert read_payload(contents, env.manifest) == payload
    assert contents["certificate.pdf"] == b"%PDF-1.7 fake"
    assert env.manifest.sequence == 3 and env.manifest.sender_fingerprint == opm.fingerprint
    # The title is not in the clear anywhere in the file.
    assert b"Pathways" not in data and b"Q0042" not in data


def test_every_flipped_byte_is_refused(opm, hub):
    _, data = seal("completion", {"counts": {"matched": 12}}, sender=opm, recipient=hub.public(), sequence=1)
    for i in range(len(data)):
        bad = bytearray(data)
        bad[i] ^= 0x01
        with pytest.raises(ExchangeError):
            env = read_envelope(bytes(bad))
            open_envelope(env, sender=opm.public(), me=hub)


def test_wrong_recipient_and_wrong_sender(opm, hub):
    other = Identity.generate("HUB-SPARE", "hub")
    _, data = seal("completion", {}, sender=opm, recipient=hub.public(), sequence=1)
    env = read_envelope(data)
    with pytest.raises(NotForThisInstallation, match="addressed to HUB-DOL"):
        check_addressed_to(env, other)
    with pytest.raises(NotForThisInstallation):
        open_envelope(env, sender=opm.public(), me=other)
    # A forger who knows the recipient's public key re-signs with its own key but claims to be OPM.
    _, forged = seal("completion", {"counts": {"matched": 999}}, sender=other, recipient=hub.public(),
                             sequence=2)
    doc = json.loads(read_envelope(forged).manifest_bytes)
    doc["sender"] = {"name": opm.name, "site": "opm", "fingerprint": opm.fingerprint}
    m = canonical_json(doc)
    body = read_envelope(forged).body
    signed = MAGIC + struct.pack(">I", len(m)) + m + struct.pack(">I", len(body)) + body
    with pytest.raises(BadSignature, match="does not verify"):
        open_envelope(read_envelope(signed + other.sign(signed)), sender=opm.public(), me=hub)


@pytest.mark.parametrize(
    ("mangle", "message"),
    [
        (lambda d: b"", "not a P20 WIN Desk package"),
        (lambda d: b"PK\x03\x04" + d, "not a P20 WIN Desk package"),
        (lambda d: d[:-1], "truncated"),
        (lambda d: d[:40], "truncated"),
        (lambda d: d + b"\x00", "extra bytes"),
        (lambda d: MAGIC + struct.pack(">I", MAX_MANIFEST_BYTES + 1) + d[12:], "at most"),
        (lambda d: MAGIC + struct.pack(">I", 2) + b"{}" + struct.pack(">I", MAX_BODY_BYTES + 1), "at most"),
        (lambda d: MAGIC + struct.pack(">I", 2) + b"[]" + struct.pack(">I", 0) + b"s" * 64, "not a P20"),
        (lambda d: MAGIC + struct.pack(">I", 9) + b'{"a":1,"a' + struct.pack(">I", 0) + b"s" * 64, "not valid JSON"),
        (lambda d: MAGIC + struct.pack(">I", 4) + b"\xff\xfe{}" + struct.pack(">I", 0) + b"s" * 64, "UTF-8"),
        (lambda d: MAGIC + struct.pack(">I", 40000) + b"[" * 40000 + struct.pack(">I", 0) + b"s" * 64, "JSON|deeply"),
    ],
)
def test_malformed_files_give_clear_messages(opm, hub, mangle, message):
    _, data = seal("completion", {}, sender=opm, recipient=hub.public(), sequence=1)
    with pytest.raises(MalformedFile, match=message):
        read_envelope(mangle(data))


def test_manifest_with_duplicate_key_or_unknown_field_is_refused(opm, hub):
    _, data = seal("completion", {}, sender=opm, recipient=hub.public(), sequence=1)
    env = read_envelope(data)
    for manifest in (
        env.manifest_bytes[:-1] + b',"extra":1}',
        env.manifest_bytes[:-1] + b',"kind":"work_order"}',
        env.manifest_bytes.replace(b'"version":1', b'"version":2'),
    ):
        forged = MAGIC + struct.pack(">I", len(manifest)) + manifest + data[12 + len(env.manifest_bytes):]
        with pytest.raises(MalformedFile):
            read_envelope(forged)


def test_identity_file_round_trip_and_tamper(opm):
    data = identity_file_bytes(opm, datetime(2026, 11, 26, tzinfo=UTC))
    pub = parse_identity_file(data)
    assert pub == opm.public() and pub.fingerprint == opm.fingerprint
    doc = json.loads(data)
    other = Identity.generate("OPM-HARTFORD", "opm").public()
    doc["agreement_key"] = base64.b64encode(other.agreement_public).decode()
    with pytest.raises(MalformedFile, match="altered"):
        parse_identity_file(json.dumps(doc).encode())
    with pytest.raises(MalformedFile, match="not a P20 WIN Desk identity"):
        parse_identity_file(b'{"format": "something else"}')
    with pytest.raises(MalformedFile, match="bytes"):
        parse_identity_file(b" " * 20000)


def test_fingerprint_shape_and_normalisation(opm, hub):
    fp = opm.fingerprint
    assert len(fp.split()) == 5 and all(len(g) == 5 and g.isdigit() for g in fp.split())
    assert fp != hub.fingerprint
    assert normalise_fingerprint(fp.replace(" ", "-")) == fp
    assert normalise_fingerprint(fp.replace(" ", "")) == fp
    assert normalise_fingerprint(fp[:-1]) == ""
    assert normalise_fingerprint(fp + "x") == ""


def test_deeply_nested_payload_is_refused_after_decryption(opm, hub):
    deep: object = 1
    for _ in range(200):
        deep = {"x": deep}
    _, data = seal("completion", {"run": deep}, sender=opm, recipient=hub.public(), sequence=1)
    env = read_envelope(data)
    with pytest.raises(MalformedFile, match="nested too deeply"):
        read_payload(open_envelope(env, sender=opm.public(), me=hub), env.manifest)


def test_huge_file_is_refused_before_it_is_read(tmp_path):
    from app.services.exchange import PackageRefused, read_package_file

    huge = tmp_path / "huge.p20pkg"
    with huge.open("wb") as fh:
        fh.truncate(MAX_BODY_BYTES * 4)  # sparse: costs no disk, would cost 128 MiB of memory if read
    with pytest.raises(PackageRefused, match="a package is at most"):
        read_package_file(huge)
    with pytest.raises(PackageRefused, match="is a folder"):
        read_package_file(tmp_path)


def test_payload_over_its_own_limit_is_refused_at_both_ends(opm, hub):
    from app.exchange.package import MAX_PAYLOAD_BYTES

    with pytest.raises(ValueError, match="payload exceeds"):
        seal("completion", {"run": "x" * MAX_PAYLOAD_BYTES}, sender=opm, recipient=hub.public(), sequence=1)
    _, data = seal("completion", {}, sender=opm, recipient=hub.public(), sequence=1)
    env = read_envelope(data)
    doc = json.loads(env.manifest_bytes)
    doc["contents"][0]["size"] = MAX_PAYLOAD_BYTES + 1
    m = canonical_json(doc)
    forged = MAGIC + struct.pack(">I", len(m)) + m + data[12 + len(env.manifest_bytes):]
    with pytest.raises(MalformedFile, match="payload claims"):
        read_envelope(forged)
