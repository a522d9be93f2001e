"""Optional "remember me on this computer": the data key kept in the OS keyring (Windows Credential Manager).

Where no keyring backend exists (headless Linux, some air-gapped builds) every function quietly does
nothing; the user types the passphrase as usual. Nothing here ever raises for a keyring problem.
"""
from __future__ import annotations

import logging
from pathlib import Path

from app.store.errors import StoreDamaged, UnknownUser
from app.store.keyslots import KeyFile
from app.store.store import Store, keys_path

log = logging.getLogger(__name__)

SERVICE = "P20WIN Desk"


def _account(store_id: str, username: str) -> str:
    return f"{store_id}:{username.strip().casefold()}"


def _keyring():
    try:
        import keyring
        from keyring.backends import fail

        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 1) <= 0:
            return None
        return keyring
    except Exception:  # a broken backend can fail in any way on import or discovery: treat it as absent
        log.info("no usable OS keyring; 'remember me' is off")
        return None


def available() -> bool:
    """True when an OS keyring can hold a remembered key (the GUI shows the checkbox only then)."""
    return _keyring() is not None


def remember(store: Store) -> bool:
    """Keep the open store's data key for the user who unlocked it. False if no keyring (or no user)."""
    kr = _keyring()
    if kr is None or store.unlocked_by is None:
        return False
    try:
        kr.set_password(SERVICE, _account(store.store_id, store.unlocked_by), store.data_key.hex())
        return True
    except Exception:  # locked, denied or broken backend: remembering is a convenience, not a duty
        log.info("could not remember the key in the OS keyring")
        return False


def forget(store_id: str, username: str) -> None:
    """Drop a remembered key (sign-out, passphrase change, user removed)."""
    kr = _keyring()
    if kr is None:
        return
    try:
        kr.delete_password(SERVICE, _account(store_id, username))
    except Exception:  # nothing remembered, or the backend is unavailable: either way nothing is left to do
        pass


def open_remembered(path: Path | str, username: str) -> Store | None:
    """Open the store with the key remembered for `username`, or None: nothing remembered, no keyring, or a
    stale key (store replaced, user removed), which is then forgotten. Other store errors (in use, not a
    store, ...) propagate as when opening with a passphrase."""
    kr = _keyring()
    if kr is None:
        return None
    store_id = KeyFile.load(keys_path(Path(path))).store_id
    try:
        hex_key = kr.get_password(SERVICE, _account(store_id, username))
    except Exception:
        return None
    if not hex_key:
        return None
    try:
        return Store.open_with_data_key(path, bytes.fromhex(hex_key), username)
    except (ValueError, StoreDamaged, UnknownUser):
        forget(store_id, username)
        return None
