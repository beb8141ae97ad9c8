"""Jinja2 templates: autoescaping, brace helpers in the context, blocks, reloading."""

import asyncio
from pathlib import Path
from typing import Any

import pytest

from brace import App, HTMLResponse, Request
from brace.templating import Templates
from brace.testing import TestClient

PAGE = """<!doctype html>
<title>{% block title %}{{ title }}{% endblock %}</title>
<main>{% block content %}<p>{{ message }}</p>
<a href="{{ url_for('show', id=7, tab='a b') }}">item</a>
<link href="{{ static_url('site.css') }}">
<span>{{ request.method }} {{ user }}</span>{% endblock %}</main>
"""


def make(tmp_path: Path, debug: bool = False) -> tuple[App, Templates]:
    (tmp_path / "templates").mkdir()
    (tmp_path / "static").mkdir()
    (tmp_path / "templates" / "page.html").write_text(PAGE)
    (tmp_path / "templates" / "note.txt").write_text("{{ message }}")
    templates = Templates(
        tmp_path / "templates", context_processors=[lambda request: {"user": "ada"}]
    )
    app = App(debug=debug)
    app.static("/static", tmp_path / "static")

    @app.get("/")
    async def index(request: Request, message: str = "hello") -> HTMLResponse:
        return templates.render(request, "page.html", {"title": "Home", "message": message})

    @app.get("/items/{id:int}")
    async def show(id: int, request: Request) -> HTMLResponse:
        return templates.render(
            request,
            "page.html",
            {"title": f"Item {id}"},
            block="title",
            status=203,
            headers={"X-Fragment": "title"},
        )

    @app.get("/async")
    async def in_thread(request: Request) -> HTMLResponse:
        return await templates.render_async(request, "page.html", {"title": "T", "message": "m"})

    @app.get("/text")
    async def text(request: Request, message: str) -> str:
        return templates.render_string(request, "note.txt", {"message": message})

    @app.get("/missing-block")
    async def missing_block(request: Request) -> HTMLResponse:
        return templates.render(request, "page.html", block="nope")

    @app.get("/by-name")
    async def by_name(request: Request, name: str) -> HTMLResponse:
        return templates.render(request, name)

    return app, templates


def test_pages_are_autoescaped_and_get_brace_helpers(tmp_path: Path) -> None:
    app, _ = make(tmp_path)
    with TestClient(app) as client:
        response = client.get("/", params={"message": "<script>alert(1)</script>"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in response.text
    assert "<script>" not in response.text
    assert 'href="/items/7?tab=a+b"' in response.text
    assert 'href="/static/site.css"' in response.text
    assert "<span>GET ada</span>" in response.text


def test_non_html_templates_are_not_escaped(tmp_path: Path) -> None:
    app, _ = make(tmp_path)
    with TestClient(app) as client:
        assert client.get("/text", params={"message": "a < b"}).text == "a < b"


def test_a_single_block_renders_for_partial_updates(tmp_path: Path) -> None:
    app, _ = make(tmp_path)
    with TestClient(app) as client:
        response = client.get("/items/3")
    assert response.text == "Item 3"
    assert response.status_code == 203
    assert response.headers["x-fragment"] == "title"


def test_render_async_and_errors(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    app, _ = make(tmp_path)
    with TestClient(app) as client:
        assert "<p>m</p>" in client.get("/async").text
        missing_block = client.get("/missing-block")
        traversal = client.get("/by-name", params={"name": "../../etc/passwd"})
    assert missing_block.status_code == 500
    assert traversal.status_code == 500
    assert "root:" not in traversal.text
    assert "TemplateNotFound" in caplog.text


@pytest.mark.parametrize(("debug", "reloads"), [(True, True), (False, False)])
def test_templates_reload_in_debug_only(tmp_path: Path, debug: bool, reloads: bool) -> None:
    app, _ = make(tmp_path, debug=debug)
    with TestClient(app) as client:
        assert "<p>hello</p>" in client.get("/").text
        page = tmp_path / "templates" / "page.html"
        page.write_text(PAGE.replace("<p>", "<p class=new>"))
        # The loader compares modification times: make the change visible to it.
        stat = page.stat()
        import os

        os.utime(page, (stat.st_atime, stat.st_mtime + 5))
        again = client.get("/").text
    assert ("class=new" in again) is reloads


def test_works_with_a_bare_request(tmp_path: Path) -> None:
    _, templates = make(tmp_path)
    request = Request({"type": "http", "method": "GET", "path": "/", "headers": []})

    async def main() -> Any:
        return await templates.render_async(request, "note.txt", {"message": "x"})

    assert asyncio.run(main()).body == b"x"
