"""`brace db ...`: migrations with Alembic, against the app's Database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from ._app_loader import load_app
from ._migration_errors import explain

__all__ = ["db"]

APP_OPTION = click.option(
    "--app",
    "app_path",
    default=None,
    help="The app as module:attribute (default: BRACE_APP or app:app).",
)
DIRECTORY_OPTION = click.option(
    "--directory",
    "-d",
    default="migrations",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The migration environment.",
)


def _config(app_path: str | None, directory: Path) -> Any:
    from ..db import Database, Model
    from ..db.migrations import alembic_config

    if not (directory / "env.py").exists():
        raise click.ClickException(
            f"no migration environment in {directory}/: create it with `brace db init`"
        )
    app = load_app(app_path)
    try:
        database = Database.of(app)
    except RuntimeError as exc:
        raise click.ClickException(str(exc)) from None
    return alembic_config(directory, database.url, Model.metadata)


@click.group()
def db() -> None:
    """Database migrations (Alembic) for the app's brace.db.Database."""


@db.command()
@DIRECTORY_OPTION
def init(directory: Path) -> None:
    """Create the migration environment."""
    from ..db.migrations import init as write_environment

    try:
        write_environment(directory)
    except FileExistsError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Created {directory}/ (env.py, script.py.mako, versions/)")


@db.command()
@click.option("--message", "-m", required=True, help="What the revision changes.")
@click.option(
    "--autogenerate/--empty",
    default=True,
    show_default=True,
    help="Compare the models with the database, or write an empty revision.",
)
@APP_OPTION
@DIRECTORY_OPTION
def revision(message: str, autogenerate: bool, app_path: str | None, directory: Path) -> None:
    """Write a new revision (from the model changes, by default)."""
    from ..db import migrations

    script = migrations.revision(_config(app_path, directory), message, autogenerate)
    scripts = script if isinstance(script, list) else [script]
    for item in scripts:
        if item is not None:
            click.echo(f"Wrote {item.path}")


@db.command()
@click.argument("target", default="head")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@APP_OPTION
@DIRECTORY_OPTION
def upgrade(target: str, sql: bool, app_path: str | None, directory: Path) -> None:
    """Apply revisions up to TARGET (default: head)."""
    _migrate("upgrade", target, sql, app_path, directory)


@db.command(context_settings={"ignore_unknown_options": True})  # `downgrade -1`
@click.argument("target")
@click.option("--sql", is_flag=True, help="Print the SQL instead of running it.")
@APP_OPTION
@DIRECTORY_OPTION
def downgrade(target: str, sql: bool, app_path: str | None, directory: Path) -> None:
    """Revert revisions down to TARGET (a revision id, -1, or base)."""
    _migrate("downgrade", target, sql, app_path, directory)


_SAID = {
    "upgrade": ("Applied", "Already up to date: nothing to apply."),
    "downgrade": ("Reverted", "Nothing to revert."),
}


def _migrate(action: str, target: str, sql: bool, app_path: str | None, directory: Path) -> None:
    """Run `upgrade` or `downgrade`, then say what it did (or why it failed, in a few lines)."""
    from ..db import migrations

    config = _config(app_path, directory)
    try:
        done: list[str] = getattr(migrations, action)(config, target, sql=sql)
    except Exception as exc:
        raise explain(exc, action) from None
    if sql:
        return
    verb, nothing = _SAID[action]
    if not done:
        click.echo(nothing)
    for revision in done:
        click.echo(f"{verb} {revision}")


@db.command()
@click.option("--verbose", "-v", is_flag=True)
@APP_OPTION
@DIRECTORY_OPTION
def current(verbose: bool, app_path: str | None, directory: Path) -> None:
    """Show the revision the database is at."""
    from ..db import migrations

    migrations.current(_config(app_path, directory), verbose=verbose)


@db.command()
@click.option("--verbose", "-v", is_flag=True)
@APP_OPTION
@DIRECTORY_OPTION
def history(verbose: bool, app_path: str | None, directory: Path) -> None:
    """List the revisions, newest first."""
    from ..db import migrations

    migrations.history(_config(app_path, directory), verbose=verbose)
