"""`brace openapi`: the document the app serves, printed or written to a file."""

import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from brace.cli import main
from brace.testing import TestClient

APP = """
from brace import App

app = App(title="Pets", version="2.0")
app.health()


@app.get("/pets/{id:int}")
async def pet(id: int) -> dict[str, int]:
    return {"id": id}
"""


def test_prints_the_served_document(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 0, result.output
    document = json.loads(result.output)
    assert document["info"] == {"title": "Pets", "version": "2.0"}
    assert set(document["paths"]) == {"/pets/{id}"}  # the probes stay out
    assert result.output.startswith('{\n  "openapi"')

    from app import app  # type: ignore[import-not-found]

    with TestClient(app) as client:
        assert client.get("/openapi.json").json() == document


def test_writes_a_file(write_app: Callable[..., Path], project: Path) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["openapi", "-o", "schema/openapi.json", "--indent", "0"])
    assert result.exit_code == 1 and "cannot write schema/openapi.json" in result.output
    (project / "schema").mkdir()
    result = CliRunner().invoke(main, ["openapi", "--output", "schema/openapi.json"])
    assert result.exit_code == 0, result.output
    assert "Wrote schema/openapi.json (1 paths)" in result.output
    assert json.loads((project / "schema" / "openapi.json").read_text())["openapi"] == "3.1.0"


def test_compact_output(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["openapi", "--indent", "0"])
    assert result.output.count("\n") == 1 and json.loads(result.output)["openapi"]


def test_app_without_a_document(write_app: Callable[..., Path]) -> None:
    write_app("from brace import App\napp = App(openapi_url=None)\n")
    result = CliRunner().invoke(main, ["openapi"])
    assert result.exit_code == 1
    assert "app:app publishes no OpenAPI document (it was built with openapi_url=None)" in (
        result.output
    )
