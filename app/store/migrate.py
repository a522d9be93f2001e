"""Alembic glue: the store's schema is made and upgraded only by the revisions in `migrations/`.

Opening a store that is already up to date must not import Alembic (a tenth of a second or more of every
start), so the current and head revisions are read without it; Alembic loads only to upgrade.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection

# Module-level so a test can point the store at a copy holding an extra, test-only revision.
SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"

_ASSIGNMENT = re.compile(r"^(down_revision|revision)\b[^=\n]*=\s*(.+?)\s*$", re.MULTILINE)


def alembic_config(connection: Connection | None = None) -> Config:
    """An Alembic config for the store's migrations; `connection` is used by env.py when given."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(SCRIPT_LOCATION).replace("%", "%%"))
    cfg.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    cfg.attributes["connection"] = connection
    return cfg


def head_revision() -> str | None:
    """The newest revision, from the scripts' own `revision` / `down_revision` lines (a test holds this to
    Alembic's answer). Raises RuntimeError when the scripts have more than one head."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for script in (SCRIPT_LOCATION / "versions").glob("*.py"):
        values = dict(_ASSIGNMENT.findall(script.read_text(encoding="utf-8")))
        revisions.add(ast.literal_eval(values["revision"]))
        down = ast.literal_eval(values["down_revision"])
        parents.update(down if isinstance(down, (tuple, list)) else [down])
    heads = revisions - parents
    if len(heads) > 1:
        raise RuntimeError(f"the store's migrations have several heads: {sorted(heads)}")
    return next(iter(heads), None)


def known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # alembic raises several kinds for an unknown id; all mean "not ours"
        return False


def current_revision(connection: Connection) -> str | None:
    """The store's schema revision (None for an empty database), as Alembic records it."""
    if connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'").first() is None:
        return None
    row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
    return row[0] if row else None


def upgrade_to_head(connection: Connection) -> None:
    """Upgrade inside the caller's connection, as one transaction (SQLite DDL is transactional)."""
    from alembic import command

    command.upgrade(alembic_config(connection), "head")
