"""Maintain the store's Alembic revisions from the models.

    uv run python -m app.store.migrations.regenerate            # before the first release: rewrite 0001
    uv run python -m app.store.migrations.regenerate --add "why" # after it: append a new revision

Until a store has shipped, the schema lives in one initial revision that is regenerated whenever the
models change. Once stores exist in the field, never rewrite a released revision: add one instead
(and check the generated file by hand: autogenerate cannot see renames or data moves).
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import sqlcipher3
from alembic import command
from sqlalchemy import create_engine

from app.store import migrate

INITIAL_REVISION = "0001"


def _scratch_engine(folder: str):
    # An unkeyed SQLCipher connection is plain SQLite: fine for diffing an empty, throwaway schema.
    db = Path(folder) / "scratch.sqlite"
    return create_engine("sqlite://", module=sqlcipher3, creator=lambda: sqlcipher3.connect(str(db)))


def regenerate_initial() -> Path:
    """Delete every revision and autogenerate the initial one from `app.models`. Returns its path."""
    versions = migrate.SCRIPT_LOCATION / "versions"
    for old in versions.glob("*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        engine = _scratch_engine(folder)
        with engine.begin() as conn:
            script = command.revision(migrate.alembic_config(conn), message="initial schema", autogenerate=True,
                                      rev_id=INITIAL_REVISION)
        engine.dispose()
    return Path(script.path)


def add_revision(message: str) -> Path:
    """Autogenerate the next revision: the difference between the head schema and `app.models`."""
    versions = sorted(p.name for p in (migrate.SCRIPT_LOCATION / "versions").glob("[0-9][0-9][0-9][0-9]_*.py"))
    next_id = f"{int(versions[-1][:4]) + 1:04d}" if versions else INITIAL_REVISION
    with tempfile.TemporaryDirectory() as folder:
        engine = _scratch_engine(folder)
        with engine.begin() as conn:
            migrate.upgrade_to_head(conn)
        with engine.begin() as conn:
            script = command.revision(migrate.alembic_config(conn), message=message, autogenerate=True,
                                      rev_id=next_id)
        engine.dispose()
    return Path(script.path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.store.migrations.regenerate", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--add", metavar="MESSAGE", help="append a new revision instead of rewriting 0001")
    args = parser.parse_args(argv)
    path = add_revision(args.add) if args.add else regenerate_initial()
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
