"""The sealed package file (`.p20pkg`): a clear manifest, an encrypted body, one signature over both.

Layout (all lengths big-endian)::

    MAGIC (8) | u32 manifest length | manifest (canonical JSON) | u32 body length | body | Ed25519 signature (64)

- body = AES-256-GCM(key, nonce, plaintext, AAD = MAGIC + manifest), where key = HKDF-SHA256 over the
  X25519 secret between a fresh ephemeral key and the recipient's X25519 key (info binds both public keys).
- plaintext = the contents listed in the manifest, concatenated in order; each entry's size and SHA-256
  are in the manifest. The first entry is always ``payload.json`` and repeats the package id, so its hash
  cannot be confirmed by guessing a low-entropy payload.
- The signature, by the sender's Ed25519 key, covers every byte before it, so nothing (manifest, ephemeral
  key, body) can be altered or swapped without detection.

Reading is strict: exact lengths, size limits checked before anything is allocated, no unknown fields.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import struct
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from app.exchange.errors import BadSignature, MalformedFile, NotForThisInstallation
from app.exchange.identity import NAME_PATTERN, SITES, Identity, PublicIdentity, _b64, _unb64
from app.exchange.jsonio import canonical_json, strict_loads

PACKAGE_SUFFIX = ".p20pkg"
MAGIC = b"P20PKG\r\n"  # the CR LF catches a file mangled by a text-mode copy
PACKAGE_FORMAT = "p20win-desk package"
PACKAGE_VERSION = 1
SCHEME = "X25519-HKDF-SHA256-AES-256-GCM"
PAYLOAD_NAME = "payload.json"
MAX_MANIFEST_BYTES = 64 * 1024
MAX_BODY_BYTES = 32 * 1024 * 1024  # a run record, a certificate scan: small by design
MAX_CONTENTS = 16
# payload.json is parsed into Python objects (many times its size in memory); attachments stay bytes.
MAX_PAYLOAD_BYTES = 4 * 1024 * 1024
MAX_PACKAGE_BYTES = len(MAGIC) + 4 + MAX_MANIFEST_BYTES + 4 + MAX_BODY_BYTES + 64
SIGNATURE_BYTES = 64
_TAG_BYTES = 16
_HKDF_INFO = b"p20win-desk package v1"
CONTENT_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,63}$")
KINDS = ("work_order", "completion", "destruction_certificate", "method_approval")
_FINGERPRINT = re.compile(r"^\d{5}( \d{5}){4}$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ContentEntry:
    name: str
    size: int
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """The clear part of a package. Nothing in it is trusted until the signature is checked."""

    kind: str
    package_id: str
    sender_name: str
    sender_site: str
    sender_fingerprint: str
    recipient_name: str
    recipient_fingerprint: str
    sequence: int
    created: datetime
    contents: tuple[ContentEntry, ...]
    ephemeral_key: bytes
    nonce: bytes

    def to_json(self) -> dict[str, Any]:
        return {
            "format": PACKAGE_FORMAT,
            "version": PACKAGE_VERSION,
            "kind": self.kind,
            "package_id": self.package_id,
            "sender": {"name": self.sender_name, "site": self.sender_site, "fingerprint": self.sender_fingerprint},
            "recipient": {"name": self.recipient_name, "fingerprint": self.recipient_fingerprint},
            "sequence": self.sequence,
            "created": self.created.isoformat(timespec="seconds"),
            "contents": [{"name": c.name, "size": c.size, "sha256": c.sha256} for c in self.contents],
            "encryption": {"scheme": SCHEME, "ephemeral_key": _b64(self.ephemeral_key), "nonce": _b64(self.nonce)},
        }


@dataclass(frozen=True)
class Envelope:
    """A parsed but not yet verified package."""

    manifest: Manifest
    manifest_bytes: bytes
    body: bytes
    signed: bytes  # every byte the signature covers
    signature: bytes
    sha256: str  # of the whole file, for the package log


def _derive_key(shared: bytes, ephemeral_public: bytes, recipient_public: bytes) -> bytes:
    info = _HKDF_INFO + ephemeral_public + recipient_public
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(shared)


def seal(
    kind: str,
    payload: dict[str, Any],
    *,
    sender: Identity,
    recipient: PublicIdentity,
    sequence: int,
    attachments: dict[str, bytes] | None = None,
    created: datetime | None = None,
) -> tuple[Manifest, bytes]:
    """Encrypt `payload` (and optional attachments) to `recipient` and sign it as `sender`.

    Returns the manifest and the file's bytes. The payload is written as ``payload.json`` wrapped with the
    package id and kind. Raises ValueError for an unknown kind, bad content names or contents too large.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown package type {kind!r}")
    if sequence < 1:
        raise ValueError("sequence numbers start at 1")
    package_id = str(uuid.uuid4())
    entries = [(PAYLOAD_NAME, canonical_json({"package_id": package_id, "kind": kind, "data": payload}))]
    for name, data in (attachments or {}).items():
        if not CONTENT_NAME.match(name) or name == PAYLOAD_NAME:
            raise ValueError(f"attachment name {name!r} is not allowed")
        entries.append((name, data))
    if len(entries[0][1]) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"the payload exceeds {MAX_PAYLOAD_BYTES // (1024 * 1024)} MiB")
    if len(entries) > MAX_CONTENTS:
        raise ValueError(f"a package holds at most {MAX_CONTENTS} files")
    plaintext = b"".join(data for _, data in entries)
    if len(plaintext) + _TAG_BYTES > MAX_BODY_BYTES:
        raise ValueError(f"the package contents exceed {MAX_BODY_BYTES // (1024 * 1024)} MiB")

    ephemeral = X25519PrivateKey.generate()
    ephemeral_public = ephemeral.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    key = _derive_key(ephemeral.exchange(recipient.agreement_key()), ephemeral_public, recipient.agreement_public)
    me = sender.public()
    manifest = Manifest(
        kind=kind,
        package_id=package_id,
        sender_name=me.name,
        sender_site=me.site,
        sender_fingerprint=me.fingerprint,
        recipient_name=recipient.name,
        recipient_fingerprint=recipient.fingerprint,
        sequence=sequence,
        created=(created or datetime.now(UTC)).astimezone(UTC).replace(microsecond=0),
        contents=tuple(ContentEntry(n, len(d), hashlib.sha256(d).hexdigest()) for n, d in entries),
        ephemeral_key=ephemeral_public,
        nonce=secrets.token_bytes(12),
    )
    manifest_bytes = canonical_json(manifest.to_json())
    if len(manifest_bytes) > MAX_MANIFEST_BYTES:
        raise ValueError("the manifest is too large")
    body = AESGCM(key).encrypt(manifest.nonce, plaintext, MAGIC + manifest_bytes)
    signed = MAGIC + struct.pack(">I", len(manifest_bytes)) + manifest_bytes + struct.pack(">I", len(body)) + body
    return manifest, signed + sender.sign(signed)


# --- reading ---------------------------------------------------------------------------------------------

def _field(doc: dict, key: str, kind: type, what: str) -> Any:
    value = doc.get(key)
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise MalformedFile(f"The package manifest's {what} is missing or of the wrong type.")
    return value


def _exact_keys(doc: Any, keys: set[str], what: str) -> dict:
    if not isinstance(doc, dict) or set(doc) != keys:
        got = sorted(doc) if isinstance(doc, dict) else type(doc).__name__
        raise MalformedFile(f"The package manifest's {what} has fields {got}; expected {sorted(keys)}.")
    return doc


def _parse_manifest(data: bytes) -> Manifest:
    doc = strict_loads(data, "package manifest")
    if not isinstance(doc, dict) or doc.get("format") != PACKAGE_FORMAT:
        raise MalformedFile("This is not a P20 WIN Desk package.")
    if doc.get("version") != PACKAGE_VERSION:
        raise MalformedFile(
            f"This package has format version {doc.get('version')!r}; this desk reads version {PACKAGE_VERSION}. "
            "Update P20 WIN Desk on this computer, or ask the sender to use the same version."
        )
    _exact_keys(doc, {"format", "version", "kind", "package_id", "sender", "recipient", "sequence", "created",
                      "contents", "encryption"}, "top level")
    kind = _field(doc, "kind", str, "type")
    if kind not in KINDS:
        raise MalformedFile(f"This package has the unknown type {kind!r}.")
    package_id = _field(doc, "package_id", str, "package id")
    try:
        if str(uuid.UUID(package_id)) != package_id:
            raise ValueError
    except ValueError:
        raise MalformedFile("The package id is not a UUID.") from None
    sender = _exact_keys(doc["sender"], {"name", "site", "fingerprint"}, "sender")
    recipient = _exact_keys(doc["recipient"], {"name", "fingerprint"}, "recipient")
    for who in (sender, recipient):
        name, fp = who.get("name"), who.get("fingerprint")
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            raise MalformedFile("An installation name in the package manifest is not valid.")
        if not isinstance(fp, str) or not _FINGERPRINT.match(fp):
            raise MalformedFile("A fingerprint in the package manifest is not 5 groups of 5 digits.")
    if sender["site"] not in SITES:
        raise MalformedFile("The sender's site in the package manifest is not valid.")
    sequence = _field(doc, "sequence", int, "sequence number")
    if not 1 <= sequence < 2**53:
        raise MalformedFile("The package's sequence number is out of range.")
    try:
        created = datetime.fromisoformat(_field(doc, "created", str, "creation time"))
    except ValueError:
        raise MalformedFile("The package's creation time is not an ISO date and time.") from None
    if created.tzinfo is None:
        raise MalformedFile("The package's creation time has no time zone.")
    raw_contents = _field(doc, "contents", list, "list of contents")
    if not 1 <= len(raw_contents) <= MAX_CONTENTS:
        raise MalformedFile(f"A package lists between 1 and {MAX_CONTENTS} files.")
    contents = []
    for item in raw_contents:
        _exact_keys(item, {"name", "size", "sha256"}, "contents entry")
        name, size, digest = item["name"], item["size"], item["sha256"]
        if not isinstance(name, str) or not CONTENT_NAME.match(name):
            raise MalformedFile("A file name inside the package is not allowed.")
        if not isinstance(size, int) or isinstance(size, bool) or not 0 <= size <= MAX_BODY_BYTES:
            raise MalformedFile("A file size inside the package is out of range.")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise MalformedFile("A file hash inside the package is not a SHA-256.")
        contents.append(ContentEntry(name, size, digest))
    if contents[0].name != PAYLOAD_NAME or len({c.name for c in contents}) != len(contents):
        raise MalformedFile("The package's contents must start with payload.json and name each file once.")
    if contents[0].size > MAX_PAYLOAD_BYTES:
        raise MalformedFile(f"The package's payload claims {contents[0].size:,} bytes; at most "
                            f"{MAX_PAYLOAD_BYTES:,} are allowed.")
    enc = _exact_keys(doc["encryption"], {"scheme", "ephemeral_key", "nonce"}, "encryption")
    if enc["scheme"] != SCHEME:
        raise MalformedFile(f"The package uses the unknown encryption scheme {enc['scheme']!r}.")
    return Manifest(
        kind=kind,
        package_id=package_id,
        sender_name=sender["name"],
        sender_site=sender["site"],
        sender_fingerprint=sender["fingerprint"],
        recipient_name=recipient["name"],
        recipient_fingerprint=recipient["fingerprint"],
        sequence=sequence,
        created=created.astimezone(UTC),
        contents=tuple(contents),
        ephemeral_key=_unb64(enc["ephemeral_key"], "ephemeral key", 32),
        nonce=_unb64(enc["nonce"], "nonce", 12),
    )


def read_envelope(data: bytes) -> Envelope:
    """Split a package file into its parts and parse the manifest. Checks structure only, not trust.

    Raises MalformedFile (not a package, truncated, over the limits, extra bytes, bad manifest).
    """
    if len(data) > MAX_PACKAGE_BYTES:
        raise MalformedFile(f"This file is {len(data):,} bytes; a package is at most {MAX_PACKAGE_BYTES:,}.")
    if not data.startswith(MAGIC):
        raise MalformedFile("This is not a P20 WIN Desk package (it does not start with the package marker).")
    pos = len(MAGIC)

    def take_length(limit: int, what: str) -> int:
        nonlocal pos
        if len(data) < pos + 4:
            raise MalformedFile("The package is truncated: it was not copied completely.")
        (n,) = struct.unpack(">I", data[pos : pos + 4])
        pos += 4
        if n > limit:
            raise MalformedFile(f"The package's {what} claims {n:,} bytes; at most {limit:,} are allowed.")
        if len(data) < pos + n:
            raise MalformedFile("The package is truncated: it was not copied completely.")
        return n

    n = take_length(MAX_MANIFEST_BYTES, "manifest")
    manifest_bytes = data[pos : pos + n]
    pos += n
    n = take_length(MAX_BODY_BYTES, "body")
    body = data[pos : pos + n]
    pos += n
    if len(data) != pos + SIGNATURE_BYTES:
        if len(data) < pos + SIGNATURE_BYTES:
            raise MalformedFile("The package is truncated: its signature is missing.")
        raise MalformedFile("The package has extra bytes after its signature: it was altered.")
    manifest = _parse_manifest(manifest_bytes)
    if manifest_bytes != canonical_json(manifest.to_json()):
        raise MalformedFile("The package manifest is not in canonical form: it was altered.")
    if len(body) != sum(c.size for c in manifest.contents) + _TAG_BYTES:
        raise MalformedFile("The package body's size does not match its manifest: it was altered.")
    return Envelope(
        manifest=manifest,
        manifest_bytes=manifest_bytes,
        body=body,
        signed=data[:pos],
        signature=data[pos:],
        sha256=hashlib.sha256(data).hexdigest(),
    )


def check_addressed_to(envelope: Envelope, me: Identity) -> None:
    """Raise NotForThisInstallation unless the package is sealed to `me` (a cheap check before any crypto)."""
    m = envelope.manifest
    mine = me.public()
    if m.recipient_fingerprint != mine.fingerprint:
        raise NotForThisInstallation(
            f"This package is addressed to {m.recipient_name} (fingerprint {m.recipient_fingerprint}), not to this "
            f"installation ({mine.name}, {mine.fingerprint}). Give it to the installation it was made for."
        )


def open_envelope(envelope: Envelope, *, sender: PublicIdentity, me: Identity) -> dict[str, bytes]:
    """Verify the signature with the trusted `sender`, check it is addressed to `me`, decrypt, check hashes.

    Returns the contents by name (``payload.json`` first). Raises NotForThisInstallation, BadSignature,
    MalformedFile. The caller must already have chosen `sender` by the manifest's sender fingerprint.
    """
    check_addressed_to(envelope, me)
    m = envelope.manifest
    mine = me.public()
    if sender.fingerprint != m.sender_fingerprint or not sender.verify(envelope.signature, envelope.signed):
        raise BadSignature(
            f"The signature on package {m.sequence} from {m.sender_name} does not verify: the file was altered "
            "after it was sealed, or was not made by that installation. Ask the sender for a fresh copy."
        )
    try:
        shared = me.agreement_key().exchange(X25519PublicKey.from_public_bytes(m.ephemeral_key))
        key = _derive_key(shared, m.ephemeral_key, mine.agreement_public)
        plaintext = AESGCM(key).decrypt(m.nonce, envelope.body, MAGIC + envelope.manifest_bytes)
    except (InvalidTag, ValueError):
        # Signed by a trusted sender yet undecryptable: sealed to an old key of ours, or a broken sender.
        raise BadSignature(
            f"Package {m.sequence} from {m.sender_name} is signed correctly but cannot be decrypted with this "
            "installation's key (was it sealed to an earlier identity of this installation?)."
        ) from None
    contents: dict[str, bytes] = {}
    pos = 0
    for entry in m.contents:
        data = plaintext[pos : pos + entry.size]
        pos += entry.size
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise MalformedFile(f"The file {entry.name} inside the package does not match its hash.")
        contents[entry.name] = data
    return contents


def read_payload(contents: dict[str, bytes], manifest: Manifest) -> Any:
    """The decrypted ``payload.json``'s data, checked to belong to this manifest."""
    doc = strict_loads(contents[PAYLOAD_NAME], "package payload")
    if (
        not isinstance(doc, dict)
        or set(doc) != {"package_id", "kind", "data"}
        or doc["package_id"] != manifest.package_id
        or doc["kind"] != manifest.kind
    ):
        raise MalformedFile("The package payload does not belong to its manifest.")
    return doc["data"]
