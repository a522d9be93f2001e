"""Key slots: passphrases, recovery code, second users, KDF parameters kept per slot."""
from __future__ import annotations

import json

import pytest

from app.store import PRODUCTION_KDF, Store, StoreError, StoreExists, UnknownUser, WeakPassphrase, WrongPassphrase
from app.store.store import keys_path
from tests.store.conftest import FAST_KDF, PASSPHRASE


def test_production_cost_slots_open_and_record_their_parameters(store_path):
    store, code = Store.create(store_path, "alice", PASSPHRASE)
    store.close()
    slots = json.loads(keys_path(store_path).read_text())["slots"]
    assert {(s["kind"], s["kdf"]["n"], s["kdf"]["r"]) for s in slots} == {
        ("user", PRODUCTION_KDF.n, PRODUCTION_KDF.r), ("recovery", PRODUCTION_KDF.n, PRODUCTION_KDF.r)}
    Store.open(store_path, "alice", PASSPHRASE).close()


def test_key_file_holds_no_key_in_clear(store, store_path):
    raw = keys_path(store_path).read_bytes()
    key = store.data_key
    assert key.hex().encode() not in raw and key not in raw
    assert PASSPHRASE.encode() not in raw


def test_wrong_passphrase_and_unknown_user(created, store_path):
    created[0].close()
    with pytest.raises(WrongPassphrase) as info:
        Store.open(store_path, "alice", "not the passphrase", kdf=FAST_KDF)
    assert "Wrong passphrase" in info.value.message
    with pytest.raises(UnknownUser) as info:
        Store.open(store_path, "mallory", PASSPHRASE, kdf=FAST_KDF)
    assert "mallory" in info.value.message
    # user names are matched without regard to case or surrounding spaces
    Store.open(store_path, " ALICE ", PASSPHRASE, kdf=FAST_KDF).close()


def test_recovery_code_opens_and_resets_a_forgotten_passphrase(created, store_path):
    store, code = created
    store.close()
    groups = code.split("-")
    assert len(groups) == 8 and all(len(g) == 5 for g in groups)
    with pytest.raises(WrongPassphrase):
        Store.open_with_recovery(store_path, code[:-1] + ("A" if code[-1] != "A" else "B"), kdf=FAST_KDF)
    typed = " ".join(groups).lower()  # as a person might type it
    recovered = Store.open_with_recovery(store_path, typed, kdf=FAST_KDF)
    assert recovered.unlocked_by is None
    recovered.set_passphrase("alice", "a brand new passphrase")
    recovered.close()
    with pytest.raises(WrongPassphrase):
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    Store.open(store_path, "alice", "a brand new passphrase", kdf=FAST_KDF).close()


def test_new_recovery_code_voids_the_old_one(created, store_path):
    store, old_code = created
    new_code = store.new_recovery_code()
    store.close()
    assert new_code != old_code
    with pytest.raises(WrongPassphrase):
        Store.open_with_recovery(store_path, old_code, kdf=FAST_KDF)
    Store.open_with_recovery(store_path, new_code, kdf=FAST_KDF).close()


def test_change_passphrase_checks_the_old_one(store, store_path):
    with pytest.raises(WrongPassphrase):
        store.change_passphrase("alice", "wrong old one", "whatever new one")
    with pytest.raises(WeakPassphrase):
        store.change_passphrase("alice", PASSPHRASE, "short")
    store.change_passphrase("alice", PASSPHRASE, "second passphrase")
    store.close()
    with pytest.raises(WrongPassphrase):
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    Store.open(store_path, "alice", "second passphrase", kdf=FAST_KDF).close()


def test_second_user_slot_opens_the_same_data_and_can_be_removed(store, store_path):
    store.add_key_slot("bob", "bob's own passphrase")
    with pytest.raises(StoreExists):
        store.add_key_slot("BOB", "another passphrase")
    store.close()
    bob = Store.open(store_path, "bob", "bob's own passphrase", kdf=FAST_KDF)
    assert bob.unlocked_by == "bob" and sorted(bob.usernames()) == ["alice", "bob"]
    with pytest.raises(WrongPassphrase):  # bob's slot does not take alice's passphrase
        bob.change_passphrase("bob", PASSPHRASE, "x" * 12)
    bob.remove_key_slot("alice")
    with pytest.raises(StoreError) as info:
        bob.remove_key_slot("bob")
    assert "last" in info.value.message
    bob.close()
    with pytest.raises(UnknownUser):
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)


def test_weaker_slot_is_rewrapped_at_the_requested_cost(store, store_path):
    store.close()
    stronger = FAST_KDF.__class__(n=FAST_KDF.n * 2)
    Store.open(store_path, "alice", PASSPHRASE, kdf=stronger).close()
    slot = next(s for s in json.loads(keys_path(store_path).read_text())["slots"] if s["kind"] == "user")
    assert slot["kdf"]["n"] == stronger.n
    Store.open(store_path, "alice", PASSPHRASE, kdf=stronger).close()


def test_slots_cannot_be_swapped_between_users(store, store_path):
    store.add_key_slot("bob", "bob's own passphrase")
    store.close()
    doc = json.loads(keys_path(store_path).read_text())
    alice = next(s for s in doc["slots"] if s["name"] == "alice")
    bob = next(s for s in doc["slots"] if s["name"] == "bob")
    alice["name"], bob["name"] = "bob", "alice"  # alice's slot now claims to be bob's
    keys_path(store_path).write_text(json.dumps(doc))
    with pytest.raises(WrongPassphrase):
        Store.open(store_path, "bob", PASSPHRASE, kdf=FAST_KDF)
