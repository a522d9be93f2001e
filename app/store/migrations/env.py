"""Alembic environment: runs against the connection the store hands over (never a URL: the key is in it)."""
from alembic import context

import app.models  # noqa: F401 - registers every model on Base.metadata
from app.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through app.store (Store.create / Store.open), not the alembic CLI")



def _render_item(type_, obj, autogen_context):  # noqa: ANN001, ANN202
    # Our own column types (e.g. UTCDateTime) are rendered by module path; make the revision import it.
    if type_ == "type" and type(obj).__module__.startswith("app."):
        autogen_context.imports.add(f"import {type(obj).__module__}")
    return False  # default rendering


context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite alters tables by copying them; batch mode does that for us
    compare_type=True,
    transactional_ddl=True,  # SQLite DDL is transactional: a failed upgrade leaves the store untouched
    render_item=_render_item,
)
with context.begin_transaction():
    context.run_migrations()
