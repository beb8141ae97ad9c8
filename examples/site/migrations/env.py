"""Alembic environment: brace supplies the database URL and the models' metadata."""

from brace.db.migrations import run_migrations

run_migrations()
