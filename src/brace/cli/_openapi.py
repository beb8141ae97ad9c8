"""`brace openapi`: the app's OpenAPI document, printed or written to a file (for clients,
reviews of API changes in pull requests, or publishing)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import click
import msgspec

from ._app_loader import app_spec
from ._check import load_checked_app

__all__ = ["openapi"]


@click.command()
@click.option(
    "--app",
    "app_path",
    default=None,
    help="The app as module:attribute (default: BRACE_APP or app:app).",
)
@click.option(
    "--output",
    "-o",
    default=None,
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Write the document to this file instead of printing it.",
)
@click.option(
    "--indent",
    default=2,
    show_default=True,
    type=click.IntRange(0, 8),
    help="Spaces per level; 0 writes one line.",
)
def openapi(app_path: str | None, output: Path | None, indent: int) -> None:
    """Print the OpenAPI document of the app (JSON), the one served at /openapi.json."""
    spec = app_spec(app_path)
    app = load_checked_app(spec)
    # The served route builds the document: asking it keeps the two from ever differing.
    endpoint = next((r.endpoint for r in app.all_routes if r.name == "brace.openapi"), None)
    if endpoint is None:
        raise click.ClickException(
            f"{spec} publishes no OpenAPI document (it was built with openapi_url=None)"
        )
    response = asyncio.run(endpoint())
    document = response.body
    text = msgspec.json.format(document, indent=indent).decode() + "\n"
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise click.ClickException(f"cannot write {output}: {exc.strerror or exc}") from None
    paths = msgspec.json.decode(document).get("paths", {})
    click.echo(f"Wrote {output} ({len(paths)} paths)", err=True)
