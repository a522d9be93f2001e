"""The encrypted local store (SQLCipher 4): create/open with key slots, migrations, backup and restore.

See docs/architecture.md ("Store") for the contract other areas build against.
"""
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
from app.store.keyslots import PRODUCTION_KDF, KdfParams
from app.store.store import Store

__all__ = [
    "DiskFull", "NotAStore", "StoreDamaged", "StoreError", "StoreExists", "StoreInUse", "StoreNotFound",
    "StoreTooNew", "UnknownUser", "WeakPassphrase", "WrongPassphrase", "PRODUCTION_KDF", "KdfParams", "Store",
]
