"""A demo store for the report tests (until the shared ``demo_store`` fixture lands in tests/conftest.py)."""
from __future__ import annotations

from datetime import date

import pytest

from app.services.demo import build_demo
from app.services.setup import initialise_store
from app.store import KdfParams

PASSPHRASE = "correct horse battery staple"
AS_OF = date(2026, 7, 15)


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory):
    path = tmp_path_factory.mktemp("demo") / "demo.p20store"
    store, _ = initialise_store(path, "admin", PASSPHRASE, "Demo administrator", kdf=KdfParams(n=2**10, r=8, p=1))
    build_demo(store, "admin", seed=20, years=3, as_of=AS_OF)
    yield store
    store.close()
