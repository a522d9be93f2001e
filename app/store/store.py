"""The encrypted store: one SQLCipher 4 file opened with a random 256-bit data key held in key slots.

Files for a store `NAME.p20store`:
- `NAME.p20store`        the SQLCipher database (WAL mode: `-wal`/`-shm` appear while open)
- `NAME.p20store.keys`   key slots (see keyslots.py)
- `NAME.p20store.lock`   an OS lock held while a process has the store open
"""
from __future__ import annotations

import contextlib
import errno
import glob
import hashlib
import json
import logging
import os
import secrets
import threading
import zipfile
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3
from sqlalchemy import create_engine, event, exc as sa_exc
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from app.store import keyslots, migrate
from app.store.errors import (
    DiskFull,
    NotAStore,
    StoreDamaged,
    StoreError,
    StoreExists,
    StoreNotFound,
    StoreTooNew,
    UnknownUser,
)
from app.store.keyslots import (
    DATA_KEY_BYTES,
    KdfParams,
    KeyFile,
    check_new_passphrase,
    encode_passphrase,
    fsync_dir,
    new_recovery_code,
    normalise_recovery_code,
    write_atomically,
)
from app.store.lock import StoreLock
from app.store.paths import DEMO_PASSPHRASE

log = logging.getLogger(__name__)

_PLAIN_SQLITE_HEADER = b"SQLite format 3\x00"
_BACKUP_FORMAT = "p20win-desk backup"
_BACKUP_DB, _BACKUP_KEYS, _BACKUP_MANIFEST = "store.p20store", "store.p20store.keys", "manifest.json"
_DISK_FULL_MESSAGE = ("The disk is full, so the last change was not saved. Free some space "
                      "(or choose another folder) and try again; nothing already saved was lost.")


def _cost(kdf: KdfParams | None) -> KdfParams:
    # Resolved per call (not as a default argument) so the production cost has one definition.
    return kdf if kdf is not None else keyslots.PRODUCTION_KDF


def keys_path(store_path: Path) -> Path:
    return store_path.with_name(store_path.name + ".keys")


# --- raw SQLCipher connections ------------------------------------------------------------------------

def _connect(path: Path, data_key: bytes, *, foreign_keys: bool = True) -> sqlcipher3.Connection:
    """A keyed connection with the store's settings; raises sqlcipher3 errors untranslated."""
    conn = sqlcipher3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=15)
    try:
        # SQLCipher writes decryption failures to stderr by default; we report them ourselves.
        conn.execute("PRAGMA cipher_log_level = NONE")
        conn.execute(f"PRAGMA key = \"x'{data_key.hex()}'\"")
        conn.execute("PRAGMA temp_store = MEMORY")  # no plaintext temp files
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = FULL")  # a commit survives power loss, not just a crash
        conn.execute(f"PRAGMA foreign_keys = {'ON' if foreign_keys else 'OFF'}")
    except BaseException:
        conn.close()
        raise
    return conn


def _sqlite_code(error: BaseException) -> int | None:
    orig = getattr(error, "orig", error)
    code = getattr(orig, "sqlite_errorcode", None)
    return None if code is None else code & 0xFF  # primary code of an extended one


_TRANSLATED_CODES = (sqlcipher3.SQLITE_FULL, sqlcipher3.SQLITE_CORRUPT, sqlcipher3.SQLITE_NOTADB)


@contextlib.contextmanager
def translate_errors(path: Path) -> Iterator[None]:
    """Turn low-level disk, lock and corruption failures into StoreErrors a person can act on."""
    try:
        yield
    except OSError as error:
        if error.errno == errno.ENOSPC:
            raise DiskFull(_DISK_FULL_MESSAGE) from error
        raise
    except (sqlcipher3.Error, sa_exc.DBAPIError) as error:
        code = _sqlite_code(error)
        if code == sqlcipher3.SQLITE_FULL:
            raise DiskFull(_DISK_FULL_MESSAGE) from error
        if code in (sqlcipher3.SQLITE_CORRUPT, sqlcipher3.SQLITE_NOTADB):
            raise StoreDamaged(
                f"The store {path.name} is damaged and cannot be read safely. "
                "Restore it from your latest backup (p20win restore)."
            ) from error
        if code in (sqlcipher3.SQLITE_READONLY, sqlcipher3.SQLITE_CANTOPEN):
            raise StoreError(f"The store {path.name} cannot be written: check that its folder is "
                             "writable and not on a read-only drive.") from error
        if code in (sqlcipher3.SQLITE_BUSY, sqlcipher3.SQLITE_LOCKED):
            raise StoreError("The store stayed busy with another task for too long; nothing was changed. "
                             "Wait for it to finish and try again.") from error
        raise


def _integrity_problems(conn: sqlcipher3.Connection, *, quick: bool = False) -> list[str]:
    """Problems SQLite and SQLCipher find in the file; empty when sound."""
    problems = []
    rows = conn.execute("PRAGMA quick_check" if quick else "PRAGMA integrity_check").fetchall()
    problems += [r[0] for r in rows if r[0] != "ok"]
    if not quick:
        problems += [" ".join(str(c) for c in r) for r in conn.execute("PRAGMA cipher_integrity_check")]
        problems += [f"foreign key: table {r[0]} row {r[1]} refers to a missing row in {r[2]}"
                     for r in conn.execute("PRAGMA foreign_key_check")]
    return problems


def _check_looks_like_store(path: Path) -> None:
    if not path.exists():
        raise StoreNotFound(f"There is no store at {path}. Check the path, or create one with p20win init.")
    if path.is_dir():
        raise NotAStore(f"{path} is a folder, not a P20 WIN Desk store file.")
    with path.open("rb") as fh:
        head = fh.read(len(_PLAIN_SQLITE_HEADER))
    if head == _PLAIN_SQLITE_HEADER:
        raise NotAStore(f"{path.name} is an ordinary unencrypted SQLite database, not a P20 WIN Desk store.")
    if len(head) < len(_PLAIN_SQLITE_HEADER):
        raise NotAStore(f"{path.name} is empty or too short to be a P20 WIN Desk store.")


def _owner_only(path: Path) -> None:
    """Readable by the owner only (POSIX); SQLite gives its -wal/-shm files the same mode."""
    if os.name == "posix":
        os.chmod(path, 0o600)


def _remove_quietly(*paths: Path) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink(missing_ok=True)


def _sidecars(db: Path) -> list[Path]:
    """A database file and the journals SQLite may keep beside it."""
    return [db, *(db.with_name(db.name + suffix) for suffix in ("-wal", "-shm", "-journal"))]


# --- the store ------------------------------------------------------------------------------------------

class Store:
    """An open, unlocked store. Make one with `create`, `open`, `open_with_recovery` or
    `open_with_data_key`; close it with `close()` (or use it as a context manager).

    `kdf` (every create/open method): the scrypt cost for slots written through this object, default
    `keyslots.PRODUCTION_KDF`; unlocking always uses each slot's own recorded cost.

    `session()` is the unit of work for changes: it starts with BEGIN IMMEDIATE, so units of work that
    read-then-write (e.g. extending the audit chain) are serialised. `read_session()` never blocks writers.
    """

    def __init__(self, path: Path, data_key: bytes, keyfile: KeyFile, lock: StoreLock, unlocked_by: str | None,
                 kdf: KdfParams):
        self.path = path
        self.keyfile = keyfile
        self.unlocked_by = unlocked_by  # the user name whose slot opened it; None for recovery / data key
        self.kdf = kdf  # cost used for slots written through this object
        self._data_key = data_key
        self._lock = lock
        self._keyfile_mutex = threading.Lock()
        self.engine: Engine = _engine_over(self._connect)
        self._sessions = sessionmaker(bind=self.engine, expire_on_commit=False)
        self._read_sessions = sessionmaker(bind=self.engine.execution_options(p20_begin="DEFERRED"),
                                           expire_on_commit=False)

    # --- creating and opening ---------------------------------------------------------------------
    @classmethod
    def create(cls, path: Path | str, username: str, passphrase: str, *,
               kdf: KdfParams | None = None) -> tuple["Store", str]:
        """Create a new empty store (schema at the latest revision) with a key slot for `username` and a
        recovery slot. Returns the open store and the recovery code, which is shown once and never stored.

        Raises StoreExists if a store is already there, WeakPassphrase, DiskFull. Never leaves a half-made
        store: the database is built under a temporary name and renamed into place when complete.
        """
        path, kdf = Path(path), _cost(kdf)
        check_new_passphrase(passphrase)
        if not username.strip():
            raise StoreError("Give a user name for the first user.")
        if path.exists():
            raise StoreExists(f"There is already a store at {path}. Open it, or choose another name.")
        with translate_errors(path):
            path.parent.mkdir(parents=True, exist_ok=True)
        lock = StoreLock(path)
        lock.acquire()
        tmp = path.with_name(f".{path.name}.creating-{secrets.token_hex(4)}")
        try:
            if path.exists():  # another process finished creating it while we checked
                raise StoreExists(f"There is already a store at {path}. Open it, or choose another name.")
            # Leftovers of a creation that was killed (we hold the lock, so none is in progress).
            _remove_quietly(*path.parent.glob(f".{glob.escape(path.name)}.creating-*"))
            data_key = secrets.token_bytes(DATA_KEY_BYTES)
            code = new_recovery_code()
            keyfile = KeyFile()
            keyfile.put(keyfile.make_slot("user", username, encode_passphrase(passphrase), data_key, kdf))
            keyfile.put(keyfile.make_slot("recovery", "", normalise_recovery_code(code), data_key, kdf))
            with translate_errors(path):
                engine = _make_engine(tmp, data_key, foreign_keys=False)
                try:
                    with engine.connect() as conn:
                        migrate.upgrade_to_head(conn)
                        conn.commit()
                finally:
                    engine.dispose()  # last connection closed: WAL checkpointed into the file and removed
                _owner_only(tmp)
                with open(tmp, "rb") as fh:
                    os.fsync(fh.fileno())
                # Keys first: a key file without its store is ignored and overwritten; a store without
                # its key file could never be opened.
                keyfile.save(keys_path(path))
                os.replace(tmp, path)
                fsync_dir(path.parent)
        except BaseException:
            _remove_quietly(*_sidecars(tmp))
            lock.release()
            raise
        log.info("created store %s", path.name)
        return cls(path, data_key, keyfile, lock, username.strip(), kdf), code

    @classmethod
    def open(cls, path: Path | str, username: str, passphrase: str, *, kdf: KdfParams | None = None) -> "Store":
        """Unlock a store with a user's passphrase. Upgrades an older store's schema after backing it up.

        Raises StoreNotFound, NotAStore, UnknownUser, WrongPassphrase, StoreInUse, StoreDamaged, StoreTooNew.
        A slot made with a lower scrypt cost than `kdf` is rewrapped at `kdf` on success, except a slot for
        the public demo passphrase: a costly derivation of a published secret protects nothing.
        """
        path, kdf = Path(path), _cost(kdf)
        _check_looks_like_store(path)
        keyfile = KeyFile.load(keys_path(path))
        slot = keyfile.user_slot(username)
        if slot is None:
            raise UnknownUser(f"There is no user named {username.strip()!r} in this store. Check the name, "
                              "or ask an administrator to add you.")
        return cls._unlock(path, keyfile, lambda: keyfile.unwrap(slot, encode_passphrase(passphrase)),
                           slot.name, kdf, rewrap_with=passphrase if slot.kdf.cost() < kdf.cost()
                           and passphrase != DEMO_PASSPHRASE else None)

    @classmethod
    def open_with_recovery(cls, path: Path | str, recovery_code: str, *, kdf: KdfParams | None = None) -> "Store":
        """Unlock with the recovery code (then typically `set_passphrase` for a user who forgot theirs)."""
        path, kdf = Path(path), _cost(kdf)
        _check_looks_like_store(path)
        keyfile = KeyFile.load(keys_path(path))
        slot = keyfile.recovery_slot()
        if slot is None:
            raise StoreError("This store has no recovery slot; it can only be opened with a user's passphrase.")
        return cls._unlock(path, keyfile, lambda: keyfile.unwrap(slot, normalise_recovery_code(recovery_code)),
                           None, kdf)

    @classmethod
    def open_with_data_key(cls, path: Path | str, data_key: bytes, username: str | None = None) -> "Store":
        """Unlock with the raw data key (the keyring cache). Raises StoreDamaged if the key does not decrypt
        the file, UnknownUser if `username` no longer has a slot (a removed user's cached key is void)."""
        path = Path(path)
        _check_looks_like_store(path)
        keyfile = KeyFile.load(keys_path(path))
        slot = None if username is None else keyfile.user_slot(username)
        if username is not None and slot is None:
            raise UnknownUser(f"There is no user named {username.strip()!r} in this store any more.")
        return cls._unlock(path, keyfile, lambda: data_key, slot.name if slot else None, _cost(None))

    @classmethod
    def _unlock(cls, path: Path, keyfile: KeyFile, get_key: Callable[[], bytes], unlocked_by: str | None,
                kdf: KdfParams, rewrap_with: str | None = None) -> "Store":
        lock = StoreLock(path)
        lock.acquire()  # before the slow KDF, so "in use" is reported at once
        try:
            data_key = get_key()
            _probe(path, data_key)
            _migrate_if_needed(path, data_key, keyfile)
            store = cls(path, data_key, keyfile, lock, unlocked_by, kdf)
        except BaseException:
            lock.release()
            raise
        if rewrap_with is not None and unlocked_by is not None:
            try:
                store.set_passphrase(unlocked_by, rewrap_with)
            except StoreError:  # e.g. disk full: the old, cheaper slot still works; try again next time
                log.warning("could not raise the key-derivation cost of a slot in %s", path.name)
        return store

    # --- units of work -----------------------------------------------------------------------------
    @contextlib.contextmanager
    def session(self) -> Iterator[Session]:
        """A Session for one unit of work: commits on normal exit, rolls back on error.
        Disk-full and corruption surface as DiskFull / StoreDamaged; StoreError after `close()`."""
        self._require_open()
        with translate_errors(self.path), self._sessions() as session:
            with session.begin():
                yield session

    @contextlib.contextmanager
    def read_session(self) -> Iterator[Session]:
        """A Session for reading a consistent snapshot without blocking writers. Do not write in it:
        it is rolled back at the end."""
        self._require_open()
        with translate_errors(self.path), self._read_sessions() as session:
            yield session

    # --- key slots ----------------------------------------------------------------------------------
    @property
    def store_id(self) -> str:
        return self.keyfile.store_id

    @property
    def data_key(self) -> bytes:
        """The raw data key, for the keyring cache only. Never log or display it."""
        return self._data_key

    def usernames(self) -> list[str]:
        """Names of the users that hold a key slot."""
        return self.keyfile.usernames()

    def add_key_slot(self, username: str, passphrase: str) -> None:
        """Give `username` a key slot. Raises StoreExists if they already have one, WeakPassphrase."""
        if self.keyfile.user_slot(username) is not None:
            raise StoreExists(f"{username.strip()!r} already has a key to this store; change their passphrase instead.")
        self.set_passphrase(username, passphrase)

    def set_passphrase(self, username: str, passphrase: str) -> None:
        """Create or replace `username`'s slot without the old passphrase (the store is already unlocked,
        e.g. by an administrator or with the recovery code). Raises WeakPassphrase."""
        check_new_passphrase(passphrase)
        if not username.strip():
            raise StoreError("Give a user name.")
        with self._keyfile_mutex:
            self.keyfile.put(self.keyfile.make_slot("user", username, encode_passphrase(passphrase),
                                                    self._data_key, self.kdf))
            self._save_keyfile()

    def change_passphrase(self, username: str, old: str, new: str) -> None:
        """Replace a user's passphrase after checking the old one (WrongPassphrase, UnknownUser)."""
        slot = self.keyfile.user_slot(username)
        if slot is None:
            raise UnknownUser(f"There is no user named {username.strip()!r} in this store.")
        self.keyfile.unwrap(slot, encode_passphrase(old))
        self.set_passphrase(slot.name, new)

    def remove_key_slot(self, username: str) -> None:
        """Take away a user's key. Refuses to remove the last user slot (the store would need recovery)."""
        slot = self.keyfile.user_slot(username)
        if slot is None:
            raise UnknownUser(f"There is no user named {username.strip()!r} in this store.")
        with self._keyfile_mutex:
            if len(self.keyfile.usernames()) <= 1:
                raise StoreError("This is the last user's key to the store; add another user before removing it.")
            self.keyfile.slots.remove(slot)
            self._save_keyfile()

    def new_recovery_code(self) -> str:
        """Replace the recovery slot; the old code stops working. Returns the new code (show it once)."""
        code = new_recovery_code()
        with self._keyfile_mutex:
            self.keyfile.put(self.keyfile.make_slot("recovery", "", normalise_recovery_code(code),
                                                    self._data_key, self.kdf))
            self._save_keyfile()
        return code

    def _save_keyfile(self) -> None:
        with translate_errors(self.path):
            self.keyfile.save(keys_path(self.path))

    # --- checks, backup, restore -----------------------------------------------------------------------
    def verify(self) -> list[str]:
        """Full SQLite + SQLCipher integrity and foreign-key check; returns the problems (empty: sound)."""
        with translate_errors(self.path):
            conn = self._connect()
            try:
                return _integrity_problems(conn)
            finally:
                conn.close()

    def checkpoint(self) -> None:
        """Fold the WAL into the store file and truncate it (waits for running units of work)."""
        with translate_errors(self.path):
            conn = self._connect()
            try:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            finally:
                conn.close()

    def backup(self, dest: Path | str) -> Path:
        """Write an online, consistent backup to the single file `dest` (refuses to overwrite).

        The backup is a zip holding the database, encrypted with the same data key, and the key slots, so it
        opens with the passphrases and recovery code valid now. Raises StoreExists, DiskFull.
        """
        self._require_open()
        dest = Path(dest)
        _write_backup(self.path, self._data_key, self.keyfile, dest)
        return dest

    @staticmethod
    def restore(backup_path: Path | str, dest_path: Path | str, username: str | None = None,
                passphrase: str | None = None, *, recovery_code: str | None = None) -> None:
        """Restore a backup into a new store at `dest_path`, never over an existing store (StoreExists).

        A user's passphrase or the recovery code valid at backup time is needed, because checking the
        database's integrity needs its key. Raises NotAStore, StoreDamaged, WrongPassphrase, DiskFull.
        """
        backup_path, dest = Path(backup_path), Path(dest_path)
        if dest.exists():
            raise StoreExists(f"There is already a store at {dest}; restore never overwrites one. "
                              "Restore to another name, or move the existing store away first.")
        keyfile, db_bytes_reader = _read_backup(backup_path)
        if recovery_code is not None:
            slot = keyfile.recovery_slot()
            secret = normalise_recovery_code(recovery_code)
        else:
            if username is None or passphrase is None:
                raise StoreError("Give a user name and passphrase (or the recovery code) valid when the backup was made.")
            slot = keyfile.user_slot(username)
            secret = encode_passphrase(passphrase)
        if slot is None:
            raise UnknownUser(f"The backup has no key for {username!r}. Use a user who had one, or the recovery code.")
        data_key = keyfile.unwrap(slot, secret)
        with translate_errors(dest):
            dest.parent.mkdir(parents=True, exist_ok=True)
        lock = StoreLock(dest)
        lock.acquire()
        tmp = dest.with_name(f".{dest.name}.restoring-{secrets.token_hex(4)}")
        try:
            with translate_errors(dest):
                with open(tmp, "wb") as out:
                    _owner_only(tmp)
                    db_bytes_reader(out)
                    out.flush()
                    os.fsync(out.fileno())
                conn = _connect(tmp, data_key)
                try:
                    problems = _integrity_problems(conn)
                finally:
                    conn.close()
            if problems:
                raise StoreDamaged(f"The backup {backup_path.name} is damaged ({problems[0]}); it was not restored. "
                                   "Try an older backup.")
            with translate_errors(dest):
                if dest.exists():
                    raise StoreExists(f"A store appeared at {dest} while restoring; nothing was overwritten.")
                keyfile.save(keys_path(dest))
                os.replace(tmp, dest)
                fsync_dir(dest.parent)
        finally:
            _remove_quietly(*_sidecars(tmp))
            lock.release()

    # --- closing ------------------------------------------------------------------------------------
    def close(self) -> None:
        """Close every connection (the WAL is checkpointed into the file), drop the key, release the lock.
        Later calls on this object raise StoreError; unlock again to get a new one."""
        if self._lock is None:
            return
        self.engine.dispose()
        self._data_key = b""  # best effort: Python cannot wipe the bytes, but nothing here refers to them now
        self._lock.release()
        self._lock = None

    def _connect(self) -> sqlcipher3.Connection:
        # The engine asks here for every new connection, so a closed store cannot be reopened through it.
        self._require_open()
        return _connect(self.path, self._data_key)

    @property
    def closed(self) -> bool:
        return self._lock is None

    def _require_open(self) -> None:
        if self._lock is None:
            raise StoreError("The store has been closed (locked); unlock it again to continue.")

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:  # never show the key
        return f"Store({str(self.path)!r}, unlocked_by={self.unlocked_by!r})"


# --- helpers used while opening ----------------------------------------------------------------------------

def _make_engine(path: Path, data_key: bytes, *, foreign_keys: bool = True) -> Engine:
    return _engine_over(lambda: _connect(path, data_key, foreign_keys=foreign_keys))


def _engine_over(creator: Callable[[], sqlcipher3.Connection]) -> Engine:
    engine = create_engine(
        "sqlite://",
        module=sqlcipher3,
        creator=creator,
        # "sqlite://" alone would mean a single in-memory connection; the file is shared by a pool of
        # keyed connections (one per thread at a time), SQLite doing the locking.
        poolclass=QueuePool,
        pool_size=4,
        max_overflow=4,
    )

    # The driver's own transaction handling is off (isolation_level=None); we emit BEGIN ourselves so
    # every unit of work, reads included, is one real SQLite transaction.
    @event.listens_for(engine, "begin")
    def _begin(conn):  # noqa: ANN001
        conn.exec_driver_sql(f"BEGIN {conn.get_execution_options().get('p20_begin', 'IMMEDIATE')}")

    return engine


def _probe(path: Path, data_key: bytes) -> None:
    """Open the file with the key and run a quick check: StoreDamaged if it cannot be read."""
    with translate_errors(path):
        try:
            conn = _connect(path, data_key)
        except sqlcipher3.DatabaseError as error:
            if _sqlite_code(error) == sqlcipher3.SQLITE_NOTADB:
                raise StoreDamaged(
                    f"The store {path.name} cannot be decrypted with the key its key file holds: the file is "
                    "damaged, or the key file belongs to another store. Restore from a backup."
                ) from None
            raise
        try:
            problems = _integrity_problems(conn, quick=True)
        finally:
            conn.close()
    if problems:
        log.warning("quick check of %s failed: %d problems", path.name, len(problems))
        raise StoreDamaged(f"The store {path.name} is damaged ({problems[0]}). Restore it from your latest backup.")


def _migrate_if_needed(path: Path, data_key: bytes, keyfile: KeyFile) -> None:
    engine = _make_engine(path, data_key, foreign_keys=False)  # batch migrations copy tables: FKs off
    try:
        with translate_errors(path), engine.connect() as conn:
            current = migrate.current_revision(conn)
            head = migrate.head_revision()
            if current == head:
                return
            if current is not None and not migrate.known_revision(current):
                raise StoreTooNew(f"The store {path.name} was made by a newer version of P20 WIN Desk "
                                  f"(schema {current}). Install the latest version to open it.")
            conn.rollback()
            stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
            backup = path.with_name(f"{path.name}.before-upgrade-{current or 'empty'}-{stamp}.p20backup")
            _write_backup(path, data_key, keyfile, backup)
            log.info("upgrading %s from %s to %s (backup %s)", path.name, current, head, backup.name)
            try:
                migrate.upgrade_to_head(conn)
                broken_links = conn.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
            except Exception as error:
                if _sqlite_code(error) in _TRANSLATED_CODES or getattr(error, "errno", None) == errno.ENOSPC:
                    raise  # disk full or damage: translate_errors says so
                log.exception("upgrade of %s failed", path.name)
                raise StoreError(f"Upgrading the store {path.name} failed ({type(error).__name__}); nothing was "
                                 f"changed, and the backup {backup.name} is beside it. Please report this.") from error
            if broken_links:
                conn.rollback()
                raise StoreError(f"Upgrading {path.name} would break links between records; nothing was changed. "
                                 f"The backup {backup.name} is beside it. Please report this.")
            conn.commit()
    finally:
        engine.dispose()


def _write_backup(db_path: Path, data_key: bytes, keyfile: KeyFile, dest: Path) -> None:
    if dest.exists():
        raise StoreExists(f"{dest} already exists; choose another name for the backup.")
    tmp_db = dest.with_name(f".{dest.name}.db-{secrets.token_hex(4)}")
    tmp_zip = dest.with_name(f".{dest.name}.zip-{secrets.token_hex(4)}")
    with translate_errors(db_path):
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = _connect(db_path, data_key)
            try:
                # sqlcipher_export copies schema and rows (sqlite_sequence too) into a database keyed with
                # the same data key, inside one read transaction: a consistent snapshot while others write.
                conn.execute(f"ATTACH DATABASE ? AS backup KEY \"x'{data_key.hex()}'\"", (str(tmp_db),))
                conn.execute("BEGIN")
                conn.execute("SELECT sqlcipher_export('backup')")
                revision = _revision_of(conn)
                conn.execute("COMMIT")
                conn.execute("DETACH DATABASE backup")
            finally:
                conn.close()
            digest = hashlib.sha256()
            with open(tmp_db, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
            manifest = {"format": _BACKUP_FORMAT, "version": 1, "store_id": keyfile.store_id,
                        "schema_revision": revision, "created_at": datetime.now(UTC).isoformat(),
                        "database_sha256": digest.hexdigest()}
            with zipfile.ZipFile(tmp_zip, "w", compression=zipfile.ZIP_STORED) as zf:
                zf.writestr(_BACKUP_MANIFEST, json.dumps(manifest, indent=2))
                zf.writestr(_BACKUP_KEYS, keyfile.to_bytes())
                zf.write(tmp_db, _BACKUP_DB)  # already encrypted: compressing it would gain nothing
            _owner_only(tmp_zip)
            with open(tmp_zip, "rb") as fh:
                os.fsync(fh.fileno())
            if dest.exists():
                raise StoreExists(f"{dest} appeared while the backup was being written; it was not overwritten.")
            os.replace(tmp_zip, dest)
            fsync_dir(dest.parent)
        finally:
            _remove_quietly(tmp_zip, *_sidecars(tmp_db))


def _revision_of(conn: sqlcipher3.Connection) -> str | None:
    try:
        row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlcipher3.OperationalError:
        return None
    return row[0] if row else None


def _read_backup(backup_path: Path) -> tuple[KeyFile, Callable]:
    """Check a backup file and return its key slots and a function copying its database into a file."""
    not_backup = NotAStore(f"{backup_path.name} is not a P20 WIN Desk backup file.")
    if not backup_path.is_file():
        raise StoreNotFound(f"There is no backup file at {backup_path}.")
    try:
        with zipfile.ZipFile(backup_path) as zf:
            manifest = json.loads(zf.read(_BACKUP_MANIFEST))
            keys_raw = zf.read(_BACKUP_KEYS)
            zf.getinfo(_BACKUP_DB)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise not_backup from None
    if not isinstance(manifest, dict) or manifest.get("format") != _BACKUP_FORMAT:
        raise not_backup
    keyfile = KeyFile.from_bytes(keys_raw, backup_path.name)

    def copy_database(out) -> None:  # noqa: ANN001
        digest = hashlib.sha256()
        try:
            with zipfile.ZipFile(backup_path) as zf, zf.open(_BACKUP_DB) as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except zipfile.BadZipFile:
            raise StoreDamaged(f"The backup {backup_path.name} is damaged (its contents fail their check). "
                               "Try an older backup.") from None
        if digest.hexdigest() != manifest.get("database_sha256"):
            raise StoreDamaged(f"The backup {backup_path.name} is damaged (checksum mismatch). Try an older backup.")

    return keyfile, copy_database
