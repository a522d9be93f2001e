"""Shared test set-up. Qt must never look for a display in tests or CI."""
import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# ---- stores with data (the services' fixtures; any area's tests may use them) --------------------------
import shutil  # noqa: E402
from datetime import date  # noqa: E402

import pytest  # noqa: E402

TEST_ADMIN = "admin"
TEST_PASSPHRASE = "correct horse battery staple"
DEMO_AS_OF = date(2026, 6, 15)  # demo data is dated relative to this, so every run builds the same store


def _fast_kdf():
    from app.store import KdfParams

    return KdfParams(n=2**10, r=8, p=1)  # production scrypt cost is the store tests' business


def _copy_store(src, folder):
    """Copy a closed store (the database, its key file, any WAL) into ``folder`` and open it."""
    from app.store import Store

    for part in src.parent.glob(src.name + "*"):
        shutil.copy2(part, folder / part.name)
    return Store.open(folder / src.name, TEST_ADMIN, TEST_PASSPHRASE, kdf=_fast_kdf())


@pytest.fixture
def copy_store():
    """``copy_store(closed_store_path, folder) -> open Store``: a private copy of a prepared store."""
    return _copy_store


@pytest.fixture(scope="session")
def fresh_store_file(tmp_path_factory):
    """Path of a store just made by ``initialise_store`` (built once per session; closed)."""
    from app.services.setup import initialise_store

    path = tmp_path_factory.mktemp("fresh") / "test.p20store"
    built, _code = initialise_store(path, TEST_ADMIN, TEST_PASSPHRASE, "Test Admin", kdf=_fast_kdf())
    built.close()
    return path


@pytest.fixture
def store(fresh_store_file, tmp_path):
    """A fresh encrypted store as ``initialise_store`` leaves it (admin ``admin``, the seeded agencies), private
    to the test: a copy of one made once per session, which saves the schema build in every test."""
    opened = _copy_store(fresh_store_file, tmp_path)
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def demo_store_file(tmp_path_factory):
    """Path of a demo store built once per test session (closed; copy it before changing it)."""
    from app.services.demo import build_demo
    from app.services.setup import initialise_store

    path = tmp_path_factory.mktemp("demo") / "demo.p20store"
    built, _code = initialise_store(path, TEST_ADMIN, TEST_PASSPHRASE, "Demo Admin", kdf=_fast_kdf())
    try:
        build_demo(built, TEST_ADMIN, seed=20, as_of=DEMO_AS_OF)
    finally:
        built.close()
    return path


@pytest.fixture
def demo_store(demo_store_file, tmp_path):
    """An open copy of the session's demo store (admin ``admin``); tests may change it freely."""
    opened = _copy_store(demo_store_file, tmp_path)
    yield opened
    opened.close()
