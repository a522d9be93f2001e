"""Online backup to one encrypted file, and restore with an integrity check."""
from __future__ import annotations

import threading
import zipfile

import pytest
from sqlalchemy import select, text

from app.models import AuditEvent, User, utcnow
from app.models.user import Role
from app.store import NotAStore, Store, StoreDamaged, StoreExists, UnknownUser, WrongPassphrase
from tests.store.conftest import FAST_KDF, PASSPHRASE

MARKER = "Backup-Marker-Ophelia-5521"


def _users(store):
    with store.read_session() as s:
        return sorted(s.scalars(select(User.username)))


def test_round_trip_keeps_data_slots_and_sequences(tmp_path, store):
    store.add_key_slot("bob", "bob's own passphrase")
    with store.session() as s:
        s.add_all([User(username=MARKER, display_name="d", role=Role.ADMIN),
                   User(username="deleted", display_name="d", role=Role.HUB)])
        s.add_all(AuditEvent(at=utcnow(), actor="t", action="a", entity="e", prev_hash="0", hash=h)
                  for h in ("h1", "h2"))
    with store.session() as s:
        s.execute(text("DELETE FROM users WHERE username = 'deleted'"))
        s.execute(text("DELETE FROM audit_events WHERE hash = 'h2'"))
    backup = store.backup(tmp_path / "b.p20backup")
    raw = backup.read_bytes()
    assert MARKER.encode() not in raw and store.data_key not in raw and store.data_key.hex().encode() not in raw
    with pytest.raises(StoreExists):  # never overwrites a backup
        store.backup(backup)
    with store.session() as s:  # a later change is not in the backup
        s.add(User(username="after-backup", display_name="d", role=Role.HUB))

    restored_path = tmp_path / "restored" / "desk.p20store"
    Store.restore(backup, restored_path, "bob", "bob's own passphrase")
    restored = Store.open(restored_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert _users(restored) == [MARKER]
    with restored.read_session() as s:  # AUTOINCREMENT high-water mark survives (the audit chain relies on it)
        assert s.execute(text("SELECT seq FROM sqlite_sequence WHERE name='audit_events'")).scalar() == 2
    assert restored.verify() == []
    assert restored.store_id == store.store_id
    restored.close()


def test_restore_never_overwrites_and_needs_a_valid_key(tmp_path, store, store_path):
    backup = store.backup(tmp_path / "b.p20backup")
    with pytest.raises(StoreExists):
        Store.restore(backup, store_path, "alice", PASSPHRASE)
    dest = tmp_path / "r.p20store"
    with pytest.raises(WrongPassphrase):
        Store.restore(backup, dest, "alice", "wrong passphrase")
    with pytest.raises(UnknownUser):
        Store.restore(backup, dest, "nobody", PASSPHRASE)
    assert not dest.exists()
    Store.restore(backup, dest, "alice", PASSPHRASE)
    assert dest.exists()


def test_restore_with_recovery_code(tmp_path, created):
    store, code = created
    backup = store.backup(tmp_path / "b.p20backup")
    Store.restore(backup, tmp_path / "r.p20store", recovery_code=code)
    Store.open_with_recovery(tmp_path / "r.p20store", code, kdf=FAST_KDF).close()


def test_damaged_or_foreign_backup_is_refused(tmp_path, store):
    with store.session() as s:
        s.add_all(User(username=f"u{i}", display_name="x" * 300, role=Role.HUB) for i in range(200))
    backup = store.backup(tmp_path / "b.p20backup")
    with zipfile.ZipFile(backup) as zf:
        info = zf.getinfo("store.p20store")
        offset = info.header_offset + 30 + len(info.filename) + len(info.extra)
    data = bytearray(backup.read_bytes())
    data[offset + info.file_size // 2] ^= 0xFF
    damaged = tmp_path / "damaged.p20backup"
    damaged.write_bytes(bytes(data))
    with pytest.raises(StoreDamaged):
        Store.restore(damaged, tmp_path / "r.p20store", "alice", PASSPHRASE)
    assert not (tmp_path / "r.p20store").exists()
    assert not [p for p in tmp_path.iterdir() if "restoring" in p.name]
    junk = tmp_path / "junk.p20backup"
    junk.write_text("hello")
    with pytest.raises(NotAStore):
        Store.restore(junk, tmp_path / "r.p20store", "alice", PASSPHRASE)


def test_backup_is_consistent_while_another_thread_writes(tmp_path, store):
    with store.session() as s:
        s.execute(text("CREATE TABLE pairs (n INTEGER PRIMARY KEY, twin INTEGER NOT NULL)"))
    stop = threading.Event()

    def writer():
        n = 0
        while not stop.is_set():
            with store.session() as s:  # each unit of work writes two rows: a backup sees both or neither
                s.execute(text("INSERT INTO pairs VALUES (:a, :a), (:b, :a)"), {"a": 2 * n, "b": 2 * n + 1})
            n += 1

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        backups = [store.backup(tmp_path / f"b{i}.p20backup") for i in range(3)]
    finally:
        stop.set()
        thread.join()
    for i, backup in enumerate(backups):
        dest = tmp_path / f"r{i}.p20store"
        Store.restore(backup, dest, "alice", PASSPHRASE)
        restored = Store.open(dest, "alice", PASSPHRASE, kdf=FAST_KDF)
        with restored.read_session() as s:
            count = s.scalar(text("SELECT count(*) FROM pairs"))
        restored.close()
        assert count % 2 == 0
