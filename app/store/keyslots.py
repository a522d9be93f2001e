"""Key slots (as LUKS does): the store's random data key, wrapped once per user and once for recovery.

The key file beside the store (`NAME.p20store.keys`) is JSON holding only salts, KDF parameters and
AES-256-GCM ciphertexts; nothing in it opens the store without a passphrase or the recovery code.
Each slot records its own scrypt parameters so a later version can raise the cost slot by slot.
"""
from __future__ import annotations

import base64
import json
import os
import secrets
import unicodedata
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from app.store.errors import NotAStore, StoreError, WeakPassphrase, WrongPassphrase

FORMAT = "p20win-desk key slots"
VERSION = 1
DATA_KEY_BYTES = 32
MIN_PASSPHRASE_CHARS = 8
RECOVERY_GROUPS, RECOVERY_GROUP_LEN = 8, 5  # 40 base32 characters = 200 random bits


@dataclass(frozen=True)
class KdfParams:
    """scrypt cost. The default (N=2^17, r=8, p=1: 128 MiB, ~0.6 s here) is the production cost;
    tests pass a lower one explicitly."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    def derive(self, secret: bytes, salt: bytes) -> bytes:
        return Scrypt(salt=salt, length=32, n=self.n, r=self.r, p=self.p).derive(secret)

    def cost(self) -> int:
        return self.n * self.r * self.p


PRODUCTION_KDF = KdfParams()
# The demo store's passphrase is printed in the README, so a costly derivation would protect nothing there;
# a cheap one lets `p20win --demo` open at once. Used only with the public demo passphrase.
DEMO_KDF = KdfParams(n=2**12)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


def encode_passphrase(passphrase: str) -> bytes:
    # NFC so the same passphrase typed through different input methods gives the same bytes.
    return unicodedata.normalize("NFC", passphrase).encode("utf-8")


def check_new_passphrase(passphrase: str) -> None:
    """Raise WeakPassphrase unless the passphrase is acceptable for a new slot."""
    if len(passphrase.strip()) < MIN_PASSPHRASE_CHARS:
        raise WeakPassphrase(f"Choose a passphrase of at least {MIN_PASSPHRASE_CHARS} characters.")


def new_recovery_code() -> str:
    """A fresh recovery code, e.g. ``ABCDE-FGH23-...`` (8 groups of 5 base32 characters)."""
    raw = base64.b32encode(secrets.token_bytes(RECOVERY_GROUPS * RECOVERY_GROUP_LEN * 5 // 8)).decode("ascii")
    return "-".join(raw[i : i + RECOVERY_GROUP_LEN] for i in range(0, len(raw), RECOVERY_GROUP_LEN))


def normalise_recovery_code(code: str) -> bytes:
    """Accept the code as a person types it: any case, spaces or dashes, 0/1/8 misread for O/I/B."""
    cleaned = "".join(ch for ch in code.upper() if ch.isalnum()).translate(str.maketrans("018", "OIB"))
    return cleaned.encode("ascii", "ignore")


@dataclass
class Slot:
    kind: str  # "user" or "recovery"
    name: str  # the user name as first given; "" for the recovery slot
    kdf: KdfParams
    salt: bytes
    nonce: bytes
    wrapped: bytes

    def to_json(self) -> dict:
        return {
            "kind": self.kind,
            "name": self.name,
            "kdf": {"name": "scrypt", "n": self.kdf.n, "r": self.kdf.r, "p": self.kdf.p},
            "salt": _b64(self.salt),
            "nonce": _b64(self.nonce),
            "wrapped": _b64(self.wrapped),
        }

    @classmethod
    def from_json(cls, data: dict) -> "Slot":
        kdf = data["kdf"]
        if kdf["name"] != "scrypt":
            raise ValueError(f"unknown KDF {kdf['name']!r}")
        return cls(
            kind=data["kind"],
            name=data["name"],
            kdf=KdfParams(n=int(kdf["n"]), r=int(kdf["r"]), p=int(kdf["p"])),
            salt=_unb64(data["salt"]),
            nonce=_unb64(data["nonce"]),
            wrapped=_unb64(data["wrapped"]),
        )


def same_user(a: str, b: str) -> bool:
    return a.strip().casefold() == b.strip().casefold()


@dataclass
class KeyFile:
    store_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    slots: list[Slot] = field(default_factory=list)

    # --- reading and writing -------------------------------------------------------------------
    @classmethod
    def load(cls, path: Path) -> "KeyFile":
        """Read a key file; NotAStore when it is missing or not ours."""
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            raise NotAStore(
                f"The key file {path.name} is missing beside the store, so it cannot be unlocked. "
                "Put the key file back from where the store was copied, or restore from a backup."
            ) from None
        return cls.from_bytes(data, path.name)

    @classmethod
    def from_bytes(cls, raw: bytes, origin: str) -> "KeyFile":
        """Parse key-file bytes; NotAStore naming `origin` when they are not a key file of ours."""
        try:
            data = json.loads(raw.decode("utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError("not a key file")
            if data.get("version") != VERSION:
                raise ValueError(f"key file version {data.get('version')}")
            return cls(store_id=str(data["store_id"]), slots=[Slot.from_json(s) for s in data["slots"]])
        except (ValueError, KeyError, TypeError, AttributeError, UnicodeDecodeError) as exc:
            raise NotAStore(
                f"{origin} is not a P20 WIN Desk key file or is damaged ({exc}). Restore the store from a backup."
            ) from None

    def to_bytes(self) -> bytes:
        doc = {"format": FORMAT, "version": VERSION, "store_id": self.store_id,
               "slots": [s.to_json() for s in self.slots]}
        return json.dumps(doc, indent=2).encode("utf-8")

    def save(self, path: Path) -> None:
        """Write atomically (temp file, fsync, rename) so a crash leaves the old or the new file."""
        write_atomically(path, self.to_bytes())

    # --- slots -------------------------------------------------------------------------------
    def _aad(self, kind: str, name: str) -> bytes:
        # Binds each wrapped key to this store and this slot, so slots cannot be moved between them.
        return f"{FORMAT}|{self.store_id}|{kind}|{name.strip().casefold()}".encode("utf-8")

    def user_slot(self, username: str) -> Slot | None:
        return next((s for s in self.slots if s.kind == "user" and same_user(s.name, username)), None)

    def recovery_slot(self) -> Slot | None:
        return next((s for s in self.slots if s.kind == "recovery"), None)

    def usernames(self) -> list[str]:
        return [s.name for s in self.slots if s.kind == "user"]

    def make_slot(self, kind: str, name: str, secret: bytes, data_key: bytes, kdf: KdfParams) -> Slot:
        salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
        wrapped = AESGCM(kdf.derive(secret, salt)).encrypt(nonce, data_key, self._aad(kind, name))
        return Slot(kind=kind, name=name.strip(), kdf=kdf, salt=salt, nonce=nonce, wrapped=wrapped)

    def put(self, slot: Slot) -> None:
        """Add a slot, replacing the one for the same user (or the recovery slot)."""
        self.slots = [
            s for s in self.slots
            if not (s.kind == slot.kind and (slot.kind == "recovery" or same_user(s.name, slot.name)))
        ]
        self.slots.append(slot)

    def unwrap(self, slot: Slot, secret: bytes) -> bytes:
        """The data key from a slot; WrongPassphrase when the secret does not open it."""
        key = slot.kdf.derive(secret, slot.salt)
        try:
            data_key = AESGCM(key).decrypt(slot.nonce, slot.wrapped, self._aad(slot.kind, slot.name))
        except InvalidTag:
            if slot.kind == "recovery":
                raise WrongPassphrase("That recovery code does not open this store. Check it and try again.") from None
            raise WrongPassphrase(
                f"Wrong passphrase for {slot.name}. Check it and try again (passphrases are case-sensitive)."
            ) from None
        if len(data_key) != DATA_KEY_BYTES:
            raise StoreError("The key file holds a key of the wrong size. Restore the store from a backup.")
        return data_key


def write_atomically(path: Path, data: bytes) -> None:
    """Replace `path` with `data` so that a crash at any moment leaves either the old or the new file."""
    tmp = path.with_name(f"{path.name}.tmp-{secrets.token_hex(4)}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def fsync_dir(folder: Path) -> None:
    """Make a rename durable (POSIX); Windows has no directory handles to sync."""
    if os.name != "posix":
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
