"""Alembic migrations for brace apps: the environment `brace db init` writes, and the commands
`brace db revision/upgrade/downgrade/current/history` run.

The migration environment (`migrations/env.py`) only calls `run_migrations()`: the database
URL and the models' metadata come from the app, so there is no alembic.ini to keep in sync.
SQLite gets Alembic's batch mode, so ALTERs work there too.
"""

from __future__ import annotations

import asyncio
import shutil
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, pool
from sqlalchemy.ext.asyncio import create_async_engine

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
    metadata = config.attributes.get("brace.metadata")
    if url is None or metadata is None:
        raise RuntimeError("run migrations with `brace db ...`, which supplies the database")
    sqlite = url.startswith("sqlite")
    options: dict[str, Any] = {
        "target_metadata": metadata,
        "render_as_batch": sqlite,  # SQLite cannot ALTER most things: copy-and-move tables
        "compare_type": True,
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


def upgrade(config: Any, revision: str = "head", sql: bool = False) -> None:
    from alembic import command

    command.upgrade(config, revision, sql=sql)


def downgrade(config: Any, revision: str, sql: bool = False) -> None:
    from alembic import command

    command.downgrade(config, revision, sql=sql)


def current(config: Any, verbose: bool = False) -> None:
    from alembic import command

    command.current(config, verbose=verbose)


def history(config: Any, verbose: bool = False) -> None:
    from alembic import command

    command.history(config, verbose=verbose)
