"""The `brace` command (also `python -m brace`). Needs the `cli` extra (click)."""

from __future__ import annotations

try:
    import click
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('the brace command needs click: pip install "brace[cli]"') from exc

from ._app_loader import AppNotFound, load_app
from ._auth import createuser
from ._check import check
from ._db import db
from ._new import new
from ._openapi import openapi
from ._routes import routes
from ._run import run
from ._shell import shell

__all__ = ["AppNotFound", "load_app", "main"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="brace", prog_name="brace")
def main() -> None:
    """brace: run, inspect and manage a brace project."""


main.add_command(db)
main.add_command(createuser)
main.add_command(new)
main.add_command(run)
main.add_command(routes)
main.add_command(openapi)
main.add_command(check)
main.add_command(shell)
