"""Real encrypted stores on disk, with a low scrypt cost (production cost is exercised in one test)."""
from __future__ import annotations

import pytest

from app.store import KdfParams, Store

FAST_KDF = KdfParams(n=2**10, r=8, p=1)
PASSPHRASE = "correct horse battery"


@pytest.fixture
def store_path(tmp_path):
    return tmp_path / "desk.p20store"


@pytest.fixture
def created(store_path):
    """(open store, recovery code) for user alice; closed after the test."""
    store, code = Store.create(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    yield store, code
    store.close()


@pytest.fixture
def store(created):
    return created[0]
