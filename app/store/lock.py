"""One process at a time per store: an OS lock on `NAME.p20store.lock`, released by the OS if we die."""
from __future__ import annotations

import os
from pathlib import Path

from app.store.errors import StoreError, StoreInUse

if os.name == "nt":  # pragma: no cover - exercised on Windows builds
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            return False


class StoreLock:
    """Held for as long as a Store is open. A stale lock file is harmless: only the OS lock counts."""

    def __init__(self, store_path: Path):
        self.path = store_path.with_name(store_path.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        except OSError as exc:
            raise StoreError(f"Cannot create the lock file {self.path}: {exc.strerror}. "
                             "Check that the folder is writable.") from None
        try:
            locked = _try_lock(fd)
        except OSError as exc:  # e.g. ENOLCK on some network shares
            os.close(fd)
            raise StoreError(f"The folder of {self.path.name} does not support file locks ({exc.strerror}), so the "
                             "store cannot be protected from being opened twice. Keep the store on a local drive.") from None
        if not locked:
            os.close(fd)
            raise StoreInUse(
                f"The store {self.path.name.removesuffix('.lock')} is open in another P20 WIN Desk window or "
                "process. Close it there first, then try again."
            )
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the OS lock
            self._fd = None
