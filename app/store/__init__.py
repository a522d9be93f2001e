"""The encrypted local store (SQLCipher 4): create/open with key slots, migrations, backup and restore.

See docs/architecture.md ("Store") for the contract other areas build against. `Store` and the KDF names
are loaded on first use, so importing the errors (e.g. for `p20win --version`) stays cheap.
"""
from typing import TYPE_CHECKING, Any

from app.store.errors import (
    DiskFull,
    NotAStore,
    StoreDamaged,
    StoreError,
    StoreExists,
    StoreInUse,
    StoreNotFound,
    StoreTooNew,
    UnknownUser,
    WeakPassphrase,
    WrongPassphrase,
)

if TYPE_CHECKING:
    from app.store.keyslots import PRODUCTION_KDF, KdfParams
    from app.store.store import Store

_LAZY = {"Store": "app.store.store", "KdfParams": "app.store.keyslots", "PRODUCTION_KDF": "app.store.keyslots"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'app.store' has no attribute {name!r}")


__all__ = [
    "DiskFull", "NotAStore", "StoreDamaged", "StoreError", "StoreExists", "StoreInUse", "StoreNotFound",
    "StoreTooNew", "UnknownUser", "WeakPassphrase", "WrongPassphrase", "PRODUCTION_KDF", "KdfParams", "Store",
]
