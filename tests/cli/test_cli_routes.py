"""`brace routes`: the table of methods, paths, names and handlers."""

from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from brace.cli import main

APP = """
from brace import App, Router

app = App()
api = Router("/api", name="api")


@app.get("/")
async def home() -> str:
    return "home"


@app.route("/items/{id:int}", methods=["PUT", "GET", "DELETE"])
async def item(id: int) -> None: ...


@api.post("/users", name="create_user")
async def create(name: str) -> None: ...


class Handlers:
    @staticmethod
    async def about() -> str:
        return "about"


app.add_route("/about", Handlers.about)
app.include(api)
app.static("/static", ".")
"""


def test_routes_table(write_app: Callable[..., Path]) -> None:
    write_app(APP)
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].split() == ["METHODS", "PATH", "NAME", "HANDLER"]
    rows = [line.split() for line in lines[1:]]
    assert ["GET", "/", "home", "app.home"] in rows
    assert ["GET,PUT,DELETE", "/items/{id:int}", "item", "app.item"] in rows
    assert ["POST", "/api/users", "api.create_user", "app.create"] in rows
    assert ["GET", "/about", "about", "app.Handlers.about"] in rows
    assert ["*", "/static/...", "static", "brace.core.staticfiles.StaticFiles"] in rows
    assert ["GET", "/openapi.json", "brace.openapi"] == rows[
        [r[1] for r in rows].index("/openapi.json")
    ][:3]
    paths = [row[1] for row in rows]
    assert paths == sorted(paths)
    # Columns line up: every row starts its path where the header does.
    start = lines[0].index("PATH")
    assert all(line[start - 2 : start] == "  " and line[start] != " " for line in lines[1:])


def test_routes_of_an_app_without_any(write_app: Callable[..., Path]) -> None:
    write_app("from brace import App\napp = App(openapi_url=None)\n", "bare_routes_app")
    result = CliRunner().invoke(main, ["routes", "--app", "bare_routes_app:app"])
    assert result.exit_code == 0 and result.output.strip() == "The app has no routes."


def test_routes_with_a_wrong_app(project: Path) -> None:
    result = CliRunner().invoke(main, ["routes"])
    assert result.exit_code == 1 and "cannot import 'app'" in result.output
