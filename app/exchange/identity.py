"""Installation identities: an Ed25519 signing key and an X25519 key per installation, and the public
identity file that two installations swap before they trust each other.

The fingerprint is what two people read aloud to each other over the phone (as Signal's safety numbers):
5 groups of 5 digits derived from SHA-256 over both public keys. Trust is only ever given to a file whose
fingerprint a person has confirmed out of band.
"""
from __future__ import annotations

import base64
import hashlib
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat

from app.exchange.errors import MalformedFile
from app.exchange.jsonio import canonical_json, strict_loads

IDENTITY_FORMAT = "p20win-desk identity"
IDENTITY_VERSION = 1
IDENTITY_SUFFIX = ".p20id"
MAX_IDENTITY_BYTES = 16 * 1024
SITES = ("opm", "hub")
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,63}$")
FINGERPRINT_GROUPS, FINGERPRINT_GROUP_DIGITS = 5, 5
_FINGERPRINT_LABEL = b"p20win-desk fingerprint v1"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: object, what: str, size: int) -> bytes:
    if not isinstance(text, str):
        raise MalformedFile(f"The {what} is missing or not text.")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, UnicodeEncodeError):
        raise MalformedFile(f"The {what} is not valid base64.") from None
    if len(raw) != size:
        raise MalformedFile(f"The {what} has {len(raw)} bytes; {size} expected.")
    return raw


def fingerprint(signing_public: bytes, agreement_public: bytes) -> str:
    """`12345 67890 ...`: 5 groups of 5 digits from SHA-256 over both raw public keys (~83 bits).

    Each group is a 5-byte slice of the digest taken modulo 100000, as Signal's safety numbers do.
    """
    digest = hashlib.sha256(_FINGERPRINT_LABEL + signing_public + agreement_public).digest()
    groups = []
    for i in range(FINGERPRINT_GROUPS):
        chunk = int.from_bytes(digest[5 * i : 5 * i + 5], "big") % 10**FINGERPRINT_GROUP_DIGITS
        groups.append(f"{chunk:0{FINGERPRINT_GROUP_DIGITS}d}")
    return " ".join(groups)


def normalise_fingerprint(text: str) -> str:
    """Accept a fingerprint as typed (any spacing or dashes); return the canonical spaced form or ''."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if len(digits) != FINGERPRINT_GROUPS * FINGERPRINT_GROUP_DIGITS or len(digits) != len(
        "".join(ch for ch in text if not ch.isspace() and ch != "-")
    ):
        return ""
    n = FINGERPRINT_GROUP_DIGITS
    return " ".join(digits[i : i + n] for i in range(0, len(digits), n))


def check_name(name: str) -> str:
    """An installation name (e.g. ``HUB-DOL``): letters, digits, space . _ -, at most 64 characters."""
    name = name.strip()
    if not NAME_PATTERN.match(name):
        raise ValueError(
            "An installation name uses letters, digits, spaces, dots, dashes or underscores "
            "(at most 64 characters), e.g. OPM-HARTFORD or HUB-DOL."
        )
    return name


@dataclass(frozen=True)
class PublicIdentity:
    """What another installation needs to seal packages to us and check our signatures."""

    name: str
    site: str  # "opm" or "hub"
    signing_public: bytes  # raw Ed25519, 32 bytes
    agreement_public: bytes  # raw X25519, 32 bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.signing_public, self.agreement_public)

    def verify(self, signature: bytes, data: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.signing_public).verify(signature, data)
            return True
        except InvalidSignature:
            return False

    def agreement_key(self) -> X25519PublicKey:
        return X25519PublicKey.from_public_bytes(self.agreement_public)


@dataclass(frozen=True)
class Identity:
    """Our own installation: the private keys. Lives only inside the encrypted store."""

    name: str
    site: str
    signing_private: bytes  # raw Ed25519 seed, 32 bytes
    agreement_private: bytes  # raw X25519, 32 bytes

    @classmethod
    def generate(cls, name: str, site: str) -> "Identity":
        """A fresh identity; `site` is "opm" or "hub". Raises ValueError for a bad name or site."""
        if site not in SITES:
            raise ValueError(f"An installation is either 'opm' or 'hub', not {site!r}.")
        raw = (Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(
            name=check_name(name),
            site=site,
            signing_private=Ed25519PrivateKey.generate().private_bytes(*raw),
            agreement_private=X25519PrivateKey.generate().private_bytes(*raw),
        )

    def signing_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.signing_private)

    def agreement_key(self) -> X25519PrivateKey:
        return X25519PrivateKey.from_private_bytes(self.agreement_private)

    def public(self) -> PublicIdentity:
        raw = (Encoding.Raw, PublicFormat.Raw)
        return PublicIdentity(
            name=self.name,
            site=self.site,
            signing_public=self.signing_key().public_key().public_bytes(*raw),
            agreement_public=self.agreement_key().public_key().public_bytes(*raw),
        )

    @property
    def fingerprint(self) -> str:
        return self.public().fingerprint

    def sign(self, data: bytes) -> bytes:
        return self.signing_key().sign(data)


# --- the public identity file ---------------------------------------------------------------------------

def identity_file_bytes(identity: Identity, created: datetime) -> bytes:
    """The public identity file (JSON, self-signed so a typo'd or spliced key is caught on reading)."""
    pub = identity.public()
    body = {
        "format": IDENTITY_FORMAT,
        "version": IDENTITY_VERSION,
        "name": pub.name,
        "site": pub.site,
        "signing_key": _b64(pub.signing_public),
        "agreement_key": _b64(pub.agreement_public),
        "created": created.isoformat(timespec="seconds"),
    }
    doc = dict(body, fingerprint=pub.fingerprint, signature=_b64(identity.sign(canonical_json(body))))
    return (json.dumps(doc, indent=2, sort_keys=True) + "\n").encode("utf-8")


def parse_identity_file(data: bytes) -> PublicIdentity:
    """Read a public identity file strictly; MalformedFile says what is wrong.

    The self-signature only proves the file is internally consistent: trust still needs a person to
    compare the fingerprint with the other installation.
    """
    if len(data) > MAX_IDENTITY_BYTES:
        raise MalformedFile(f"This file is {len(data):,} bytes; an identity file is under {MAX_IDENTITY_BYTES:,}.")
    doc = strict_loads(data, "identity file")
    if not isinstance(doc, dict) or doc.get("format") != IDENTITY_FORMAT:
        raise MalformedFile("This is not a P20 WIN Desk identity file.")
    if doc.get("version") != IDENTITY_VERSION:
        raise MalformedFile(
            f"This identity file has format version {doc.get('version')!r}; this desk reads version "
            f"{IDENTITY_VERSION}. Update P20 WIN Desk on this computer."
        )
    expected = {"format", "version", "name", "site", "signing_key", "agreement_key", "created", "fingerprint",
                "signature"}
    if set(doc) != expected:
        raise MalformedFile(f"The identity file has unexpected or missing fields: {sorted(set(doc) ^ expected)}.")
    name, site = doc["name"], doc["site"]
    if not isinstance(name, str) or not NAME_PATTERN.match(name) or site not in SITES:
        raise MalformedFile("The identity file's installation name or site is not valid.")
    pub = PublicIdentity(
        name=name,
        site=site,
        signing_public=_unb64(doc["signing_key"], "signing key", 32),
        agreement_public=_unb64(doc["agreement_key"], "encryption key", 32),
    )
    signature = _unb64(doc["signature"], "signature", 64)
    body = {k: v for k, v in doc.items() if k not in ("fingerprint", "signature")}
    if not pub.verify(signature, canonical_json(body)):
        raise MalformedFile("The identity file's signature does not match its keys: the file was altered.")
    if doc["fingerprint"] != pub.fingerprint:
        raise MalformedFile("The fingerprint written in the identity file does not match its keys: it was altered.")
    return pub


def read_limited(path: Path, limit: int, what: str) -> bytes:
    """Read at most `limit` bytes of a file, refusing larger ones before reading them into memory."""
    try:
        size = path.stat().st_size
        if size > limit:
            raise MalformedFile(f"{path.name} is {size:,} bytes; a {what} is at most {limit:,} bytes.")
        with path.open("rb") as fh:
            data = fh.read(limit + 1)
    except FileNotFoundError:
        raise MalformedFile(f"{path} does not exist.") from None
    except IsADirectoryError:
        raise MalformedFile(f"{path} is a folder, not a {what}.") from None
    except PermissionError:
        raise MalformedFile(f"{path} cannot be read: permission denied.") from None
    if len(data) > limit:  # grew while we looked
        raise MalformedFile(f"{path.name} is over {limit:,} bytes; a {what} is at most that.")
    return data
