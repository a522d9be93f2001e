"""The schema comes from Alembic revisions only; opening an older store backs it up, then upgrades it."""
from __future__ import annotations

import json
import shutil
import textwrap
import zipfile

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text

from app.models import Base, User
from app.models.user import Role
from app.store import Store, StoreError, StoreTooNew, migrate
from tests.store.conftest import FAST_KDF, PASSPHRASE


def test_fresh_store_has_exactly_the_models_schema(store):
    """If this fails, the models changed: run `uv run python -m app.store.migrations.regenerate`."""
    with store.engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
        assert ctx.get_current_revision() == migrate.head_revision()
    assert diff == []


def _script_dir_with(tmp_path, body: str):
    """A copy of the real migrations plus one test-only revision after head."""
    location = tmp_path / "migrations"
    shutil.copytree(migrate.SCRIPT_LOCATION, location, ignore=shutil.ignore_patterns("__pycache__"))
    head = migrate.head_revision()
    (location / "versions" / "9001_test_only.py").write_text(textwrap.dedent(f'''
        from alembic import op
        import sqlalchemy as sa
        revision = "9001"
        down_revision = {head!r}
        branch_labels = depends_on = None
        def upgrade():
        ''') + textwrap.indent(textwrap.dedent(body), "    ") + "\ndef downgrade():\n    pass\n")
    return location


def test_revisions_read_without_alembic_agree_with_alembic(store, tmp_path, monkeypatch):
    """Opening reads the head and the store's revision without importing Alembic; both must be Alembic's."""
    from alembic.script import ScriptDirectory

    with store.engine.connect() as conn:
        assert migrate.current_revision(conn) == MigrationContext.configure(conn).get_current_revision()
    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", _script_dir_with(tmp_path, "pass"))
    assert migrate.head_revision() == "9001"
    assert migrate.head_revision() == ScriptDirectory.from_config(migrate.alembic_config()).get_current_head()


def _made_at_head_with_a_user(store_path):
    store, _ = Store.create(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    with store.session() as s:
        s.add(User(username="kept-user", display_name="Kept", role=Role.HUB))
    store.close()


def test_older_store_is_backed_up_then_upgraded(tmp_path, store_path, monkeypatch):
    _made_at_head_with_a_user(store_path)
    old_head = migrate.head_revision()
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", _script_dir_with(tmp_path, """
        with op.batch_alter_table("users") as batch:
            batch.add_column(sa.Column("nickname", sa.String(40), nullable=True))
        op.create_table("upgrade_probe", sa.Column("id", sa.Integer, primary_key=True))
    """))
    store = Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == "9001"
        columns = {c["name"] for c in inspect(conn).get_columns("users")}
    assert "nickname" in columns
    with store.read_session() as s:
        assert s.scalars(select(User.username)).all() == ["kept-user"]
    assert store.verify() == []
    store.close()

    backups = list(tmp_path.glob(f"{store_path.name}.before-upgrade-{old_head}-*.p20backup"))
    assert len(backups) == 1
    with zipfile.ZipFile(backups[0]) as zf:
        assert json.loads(zf.read("manifest.json"))["schema_revision"] == old_head
    Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF).close()  # at head now: no second backup
    assert len(list(tmp_path.glob("*.before-upgrade-*"))) == 1


def test_failed_upgrade_changes_nothing(tmp_path, store_path, monkeypatch):
    _made_at_head_with_a_user(store_path)
    old_head = migrate.head_revision()
    monkeypatch.setattr(migrate, "SCRIPT_LOCATION", _script_dir_with(tmp_path, """
        op.create_table("half_done", sa.Column("id", sa.Integer, primary_key=True))
        op.execute("INSERT INTO no_such_table VALUES (1)")
    """))
    with pytest.raises(StoreError) as info:
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert "nothing was changed" in info.value.message
    monkeypatch.undo()
    store = Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    with store.engine.connect() as conn:
        assert MigrationContext.configure(conn).get_current_revision() == old_head
        assert "half_done" not in inspect(conn).get_table_names()
    store.close()


def test_store_from_a_newer_version_is_refused(store, store_path):
    with store.session() as s:
        s.execute(text("UPDATE alembic_version SET version_num = 'ffff_future'"))
    store.close()
    with pytest.raises(StoreTooNew) as info:
        Store.open(store_path, "alice", PASSPHRASE, kdf=FAST_KDF)
    assert "newer version" in info.value.message
