"""Alembic revisions of the store's schema. See `regenerate.py` for the one command that maintains them."""
