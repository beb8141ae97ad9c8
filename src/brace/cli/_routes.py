"""`brace routes`: every route of the app in a table, the way the router will match them."""

from __future__ import annotations

import click

from ._app_loader import app_spec
from ._check import load_checked_app

__all__ = ["routes"]

_ORDER = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


def _handler(endpoint: object) -> str:
    module = getattr(endpoint, "__module__", None) or "?"
    name = getattr(endpoint, "__qualname__", None) or type(endpoint).__name__
    return f"{module}.{name}"


def route_rows(app: object) -> list[tuple[str, str, str, str]]:
    """(methods, path, name, handler) for each route and mount, sorted by path."""
    from ..core.app import App

    assert isinstance(app, App)
    rows: list[tuple[str, str, str, str]] = []
    for route in app.all_routes:
        methods = ",".join(sorted(route.methods, key=_ORDER.index))
        rows.append((methods, route.path, route.name, _handler(route.endpoint)))
    _, mounts, _ = app.flatten(freeze=False)
    for mount in mounts:
        target = type(mount.app)
        rows.append(
            ("*", mount.path + "/...", mount.name or "", f"{target.__module__}.{target.__name__}")
        )
    rows.sort(key=lambda row: (row[1], row[0]))
    return rows


@click.command()
@click.option(
    "--app",
    "app_path",
    default=None,
    help="The app as module:attribute (default: BRACE_APP or app:app).",
)
def routes(app_path: str | None) -> None:
    """List every route: methods, path, name and handler (mounts show as PATH/...)."""
    spec = app_spec(app_path)
    rows = route_rows(load_checked_app(spec))
    if not rows:
        click.echo("The app has no routes.")
        return
    header = ("METHODS", "PATH", "NAME", "HANDLER")
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        click.echo("  ".join([*cells, row[3]]).rstrip())
