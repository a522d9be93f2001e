"""'Remember me': off without a keyring backend, working with one, never a crash."""
from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from app.store import Store, keycache
from app.store.paths import default_store_path, demo_store_path
from tests.store.conftest import FAST_KDF


class MemoryKeyring(KeyringBackend):
    """A real keyring backend holding secrets in memory (the OS ones are absent on CI machines)."""

    priority = 1

    def __init__(self):
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        self.items.pop((service, username), None)


class BrokenKeyring(MemoryKeyring):
    def set_password(self, service, username, password):
        raise RuntimeError("backend exploded")

    def get_password(self, service, username):
        raise RuntimeError("backend exploded")


@pytest.fixture
def backend():
    previous = keyring.get_keyring()
    yield lambda b: keyring.set_keyring(b) or b
    keyring.set_keyring(previous)


def test_no_backend_means_silently_off(backend, store, store_path):
    backend(fail.Keyring())
    assert not keycache.available()
    assert keycache.remember(store) is False
    store.close()
    assert keycache.open_remembered(store_path, "alice") is None
    keycache.forget(store.store_id, "alice")


def test_broken_backend_never_crashes(backend, store, store_path):
    backend(BrokenKeyring())
    assert keycache.remember(store) is False
    store.close()
    assert keycache.open_remembered(store_path, "alice") is None


def test_remembered_key_opens_until_the_user_is_removed(backend, store, store_path):
    memory = backend(MemoryKeyring())
    assert keycache.remember(store)
    assert store.data_key.hex() in memory.items.values()
    store.add_key_slot("bob", "bob's passphrase")
    store.close()
    reopened = keycache.open_remembered(store_path, "Alice")
    assert reopened is not None and reopened.unlocked_by == "alice"
    assert keycache.open_remembered(store_path, "bob") is None  # bob never asked to be remembered
    reopened.remove_key_slot("alice")
    reopened.close()
    assert keycache.open_remembered(store_path, "alice") is None
    assert memory.items == {}  # the stale key was forgotten


def test_default_paths_honour_p20win_home(monkeypatch, tmp_path):
    monkeypatch.setenv("P20WIN_HOME", str(tmp_path / "portable"))
    assert default_store_path().parent == tmp_path / "portable"
    assert demo_store_path().parent == tmp_path / "portable"
    assert default_store_path() != demo_store_path()
    monkeypatch.delenv("P20WIN_HOME")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert default_store_path().parent == tmp_path / "xdg" / "p20win-desk"
