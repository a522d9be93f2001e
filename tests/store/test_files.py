"""What lands on disk, and the ways a store file can fail: in use, not a store, damaged, full, killed."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time

import pytest
from sqlalchemy import select, text

from app.models import User
from app.models.user import Role
from app.store import (
    DiskFull,
    NotAStore,
    Store,
    StoreDamaged,
    StoreError,
    StoreExists,
    StoreInUse,
    StoreNotFound,
    WeakPassphrase,
)
from app.store.store import keys_path
from tests.store.conftest import FAST_KDF, PASSPHRASE

MARKER = "Zebulon-Quixotic-7731"


def _grep(path, needle: str) -> bool:
    return path.exists() and needle.encode() in path.read_bytes()


def test_grep_finds_plaintext_in_an_unencrypted_database(tmp_path):
    """Control: the byte search used below does find a string SQLite writes in clear."""
    db = tmp_path / "plain.sqlite"
    with sqlite3.connect(db) as conn:
        conn.execute("create table t(x)")
        conn.execute("insert into t values (?)", (MARKER,))
    assert _grep(db, MARKER)


def test_store_and_wal_hold_no_plaintext(store, store_path):
    with store.session() as s:
        s.add(User(username=MARKER, display_name=MARKER * 20, role=Role.ADMIN))
    wal = store_path.with_name(store_path.name + "-wal")
    assert wal.stat().st_size > 0  # the write sits in the WAL now
    with store.read_session() as s:
        assert s.scalar(select(User.display_name).where(User.username == MARKER)) == MARKER * 20
    for f in (store_path, wal, store_path.with_name(store_path.name + "-shm"), keys_path(store_path)):
        assert not _grep(f, MARKER), f
    store.checkpoint()
    assert wal.stat().st_size == 0
    assert not _grep(store_path, MARKER) and not _grep(wal, MARKER)
    store.close()
    assert not _grep(store_path, MARKER)
    assert store_path.stat().st_mode & 0o077 == 0  # owner-only


def test_second_opener_is_told_the_store_is_in_use(store, store_path):
    with pytest.raises(StoreInUse) as info:
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert "another" in info.value.message
    child = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(f"""
            from app.store import Store, StoreInUse, KdfParams
            try:
                Store.open({str(store_path)!r}, "alice", {PASSPHRASE!r}, kdf=KdfParams(n={FAST_KDF.n}))
            except StoreInUse:
                raise SystemExit(3)
        """)], capture_output=True, text=True, timeout=60)
    assert child.returncode == 3, child.stderr
    store.close()
    Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF).close()  # released on close


def test_not_a_store(tmp_path, store, store_path):
    with pytest.raises(StoreNotFound):
        Store.open(tmp_path / "nothing.p20store", "alice", PASSPHRASE, kdf=FAST_KDF)
    plain = tmp_path / "plain.p20store"
    sqlite3.connect(plain).execute("create table t(x)").connection.commit()
    with pytest.raises(NotAStore) as info:
        Store.open(plain, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert "unencrypted" in info.value.message
    text_file = tmp_path / "notes.p20store"
    text_file.write_text("just some notes, long enough to look like something\n")
    with pytest.raises(NotAStore) as info:  # no key file beside it
        Store.open(text_file, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert "key file" in info.value.message
    empty = tmp_path / "empty.p20store"
    empty.touch()
    with pytest.raises(NotAStore):
        Store.open(empty, "alice", PASSPHRASE, kdf=FAST_KDF)
    store.close()
    keys_path(store_path).write_text("{not json")
    with pytest.raises(NotAStore):
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)


def test_damaged_file_is_reported_not_crashed_on(store, store_path):
    with store.session() as s:
        s.add_all(User(username=f"user{i}", display_name="x" * 400, role=Role.HUB) for i in range(400))
    store.close()
    size = store_path.stat().st_size
    assert size > 20 * 4096
    with open(store_path, "r+b") as fh:  # scribble over a page in the middle
        fh.seek(size // 2)
        fh.write(os.urandom(64))
    with pytest.raises(StoreDamaged) as info:
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert "backup" in info.value.message


def test_key_file_of_another_store_is_reported(tmp_path, store, store_path):
    other, _ = Store.create(tmp_path / "other.p20store", "alice", PASSPHRASE, kdf=FAST_KDF)
    other.close()
    store.close()
    keys_path(store_path).write_bytes(keys_path(tmp_path / "other.p20store").read_bytes())
    with pytest.raises(StoreDamaged):
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)


def test_disk_full_is_reported_and_loses_nothing_saved(store, store_path):
    with store.session() as s:
        s.add(User(username="kept", display_name="kept", role=Role.ADMIN))
    # SQLite's page limit gives the very SQLITE_FULL a full disk gives.
    with store.engine.connect() as conn:
        pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
    with pytest.raises(DiskFull) as info:
        with store.session() as s:
            s.execute(text(f"PRAGMA max_page_count = {pages + 2}"))
            s.add_all(User(username=f"u{i}", display_name="y" * 1000, role=Role.HUB) for i in range(200))
    assert "disk is full" in info.value.message
    store.close()
    reopened = Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    with reopened.read_session() as s:
        assert s.scalars(select(User.username)).all() == ["kept"]
    assert reopened.verify() == []
    reopened.close()


def test_create_refuses_an_existing_store_and_leaves_nothing_on_failure(tmp_path, store, store_path):
    before = store_path.read_bytes()
    with pytest.raises(StoreExists):
        Store.create(store_path, "eve", PASSPHRASE, kdf=FAST_KDF)
    assert store_path.read_bytes() == before
    fresh = tmp_path / "new" / "fresh.p20store"
    with pytest.raises(WeakPassphrase):
        Store.create(fresh, "eve", "short", kdf=FAST_KDF)
    assert not fresh.exists()


def test_creation_killed_midway_leaves_no_half_store(tmp_path):
    """Kill a process that creates store after store: every store it left either opens whole or is absent."""
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import app.models, alembic.command  # imports done before the clock starts
        from app.store import Store, KdfParams
        for i in range(100):
            print(i, flush=True)
            Store.create({str(tmp_path)!r} + f"/k{{i}}.p20store", "alice", {PASSPHRASE!r}, kdf=KdfParams(n={FAST_KDF.n}))
    """)], stdout=subprocess.PIPE, text=True)
    for line in child.stdout:
        if int(line) == 3:
            time.sleep(0.03)  # into the fourth creation: schema being built under its temporary name
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    stores = sorted(tmp_path.glob("k*.p20store"))
    assert len(stores) >= 3
    for path in stores:
        store = Store.open(path, "alice", PASSPHRASE, kdf=FAST_KDF)
        assert store.verify() == []
        store.close()
    # A killed creation's temporary files are swept by the next creation of that store.
    interrupted = {p.name[1:].split(".creating-")[0] for p in tmp_path.iterdir() if ".creating-" in p.name}
    for name in interrupted:
        Store.create(tmp_path / name, "alice", PASSPHRASE, kdf=FAST_KDF)[0].close()
    assert not [p.name for p in tmp_path.iterdir() if ".creating-" in p.name]


WRITER = """
import sys
from sqlalchemy import text
from app.store import Store, KdfParams
store = Store.open(sys.argv[1], "alice", sys.argv[2], kdf=KdfParams(n=int(sys.argv[3])))
for i in range(1_000_000):
    with store.session() as s:
        s.execute(text("INSERT INTO kill_test (n, filler) VALUES (:n, :f)"), {"n": i, "f": "z" * 300})
    print(i, flush=True)  # only after the commit returned
"""


def test_sigkill_during_writes_loses_nothing_committed(store, store_path):
    with store.session() as s:
        s.execute(text("CREATE TABLE kill_test (n INTEGER PRIMARY KEY, filler TEXT)"))
    store.close()
    child = subprocess.Popen([sys.executable, "-c", WRITER, str(store_path), PASSPHRASE, str(FAST_KDF.n)],
                             stdout=subprocess.PIPE, text=True)
    last = -1
    for line in child.stdout:
        last = int(line)
        if last >= 100:
            break
    child.send_signal(signal.SIGKILL)
    child.wait()
    child.stdout.close()
    reopened = Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    with reopened.read_session() as s:
        rows = s.execute(text("SELECT n FROM kill_test ORDER BY n")).scalars().all()
    assert rows[: last + 1] == list(range(last + 1))  # every acknowledged commit is there, in order
    assert len(rows) in (last + 1, last + 2)  # at most one commit in flight when killed
    assert reopened.verify() == []
    reopened.close()


def test_a_closed_store_cannot_be_used_or_reconnected(store, store_path):
    store.close()
    for use in (store.session, store.read_session):
        with pytest.raises(StoreError):
            with use():
                pass
    with pytest.raises(StoreError):
        store.engine.connect()  # the pool would otherwise reconnect with the key, without the lock
    with pytest.raises(StoreError):
        store.backup(store_path.with_name("late.p20backup"))
    Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF).close()  # lock released
