"""Alembic migrations for brace apps: the environment `brace db init` writes, and the commands
`brace db revision/upgrade/downgrade/current/history` run.

The migration environment (`migrations/env.py`) only calls `run_migrations()`: the database
URL and the models' metadata come from the app, so there is no alembic.ini to keep in sync.
Revisions are written in Alembic's batch mode with portable defaults (`brace.db._portable`),
so one written on SQLite runs on PostgreSQL and the reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

from ._portable import add_missing_server_defaults, render_item

__all__ = [
    "ENV_PY",
    "alembic_config",
    "current",
    "downgrade",
    "history",
    "init",
    "revision",
    "run_migrations",
    "upgrade",
]

ENV_PY = '''"""Alembic environment: brace supplies the database URL and the models' metadata."""

from brace.db.migrations import run_migrations

run_migrations()
'''


def init(directory: str | Path) -> Path:
    """Write a migration environment (env.py, the revision template, versions/)."""
    import alembic

    target = Path(directory)
    if target.exists() and any(target.iterdir()):
        raise FileExistsError(f"{target} already exists and is not empty")
    (target / "versions").mkdir(parents=True, exist_ok=True)
    (target / "env.py").write_text(ENV_PY)
    template = Path(alembic.__file__).parent / "templates" / "generic" / "script.py.mako"
    shutil.copyfile(template, target / "script.py.mako")
    return target


def alembic_config(directory: str | Path, url: str, metadata: MetaData) -> Any:
    """An Alembic Config pointing at `directory`, carrying the URL and metadata to env.py."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(directory))
    config.attributes["brace.url"] = url
    config.attributes["brace.metadata"] = metadata
    return config


def run_migrations() -> None:
    """The body of env.py: run Alembic online (or offline, with --sql) against the app's DB."""
    from alembic import context

    config = context.config
    url = config.attributes.get("brace.url")
    applied: list[str] = config.attributes.setdefault("brace.applied", [])
    metadata = config.attributes.get("brace.metadata")
    if url is None or metadata is None:
        raise RuntimeError("run migrations with `brace db ...`, which supplies the database")
    options: dict[str, Any] = {
        "target_metadata": metadata,
        # Batch mode everywhere: a revision written against SQLite (copy-and-move tables
        # where SQLite cannot ALTER) runs as plain ALTERs on PostgreSQL, and the reverse.
        "render_as_batch": True,
        "compare_type": True,
        "render_item": render_item,  # sa.true(), sa.func.now(): not one database's SQL
        "process_revision_directives": add_missing_server_defaults,
        "on_version_apply": lambda ctx, step, heads, run_args: applied.append(_describe(step)),
    }
    if context.is_offline_mode():
        context.configure(url=url, literal_binds=True, **options)
        with context.begin_transaction():
            context.run_migrations()
        return
    asyncio.run(_run_online(url, options))


async def _run_online(url: str, options: dict[str, Any]) -> None:
    engine = create_async_engine(url, poolclass=pool.NullPool)
    try:
        async with engine.connect() as connection:
            await connection.run_sync(_run_with_connection, options)
    finally:
        await engine.dispose()


def _run_with_connection(connection: Any, options: dict[str, Any]) -> None:
    from alembic import context

    context.configure(connection=connection, **options)
    with context.begin_transaction():
        context.run_migrations()


# -- commands (used by the CLI; callable from Python too) -----------------------------------------


def revision(config: Any, message: str, autogenerate: bool = True) -> Any:
    from alembic import command

    return command.revision(config, message=message, autogenerate=autogenerate)


def upgrade(config: Any, revision: str = "head", sql: bool = False) -> list[str]:
    """Apply revisions up to `revision`; the ones applied, as "id: message" lines. Alembic's
    own INFO lines stay out of the app's logs (an app migrating at start-up)."""
    from alembic import command

    with _quiet_alembic():
        command.upgrade(config, revision, sql=sql)
    return _applied(config)


def downgrade(config: Any, revision: str, sql: bool = False) -> list[str]:
    """Revert revisions down to `revision`; the ones reverted, as "id: message" lines."""
    from alembic import command

    with _quiet_alembic():
        command.downgrade(config, revision, sql=sql)
    return _applied(config)


def _applied(config: Any) -> list[str]:
    done: list[str] = config.attributes.get("brace.applied", [])
    config.attributes["brace.applied"] = []
    return done


def _describe(step: Any) -> str:
    revision = step.up_revision_id  # the one applied, or the one reverted
    message = (getattr(step.up_revision, "doc", "") or "").strip().splitlines()
    return f"{revision}: {message[0]}" if message else str(revision)


@contextlib.contextmanager
def _quiet_alembic() -> Iterator[None]:
    log = logging.getLogger("alembic")
    level = log.level
    if level < logging.WARNING:
        log.setLevel(logging.WARNING)
    try:
        yield
    finally:
        log.setLevel(level)


def current(config: Any, verbose: bool = False) -> None:
    from alembic import command

    command.current(config, verbose=verbose)


def history(config: Any, verbose: bool = False) -> None:
    from alembic import command

    command.history(config, verbose=verbose)
