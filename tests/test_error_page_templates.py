"""Error pages in the site's own look: `templates.serve_error_pages(app)` renders
`errors/<status>.html` or `errors/default.html` for browsers; API clients keep problem+json;
a 5xx detail is never shown; unhandled exceptions keep brace's own handling."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from brace import App, HTTPError
from brace.templating import Templates
from brace.testing import TestClient

HTML = {"accept": "text/html"}


@pytest.fixture
def client(tmp_path: Path) -> Any:
    errors = tmp_path / "errors"
    errors.mkdir()
    (tmp_path / "base.html").write_text("<html><nav>My Site</nav>{% block body %}{% endblock %}")
    (errors / "404.html").write_text(
        '{% extends "base.html" %}{% block body %}<h1>Lost? ({{ status }})</h1>'
        '<p>{{ detail }}</p><a href="/">Home</a>{% endblock %}'
    )
    (errors / "default.html").write_text(
        '{% extends "base.html" %}{% block body %}<h1>{{ status }} {{ title }}</h1>'
        "{% if detail %}<p>{{ detail }}</p>{% endif %}{% endblock %}"
    )
    app = App()
    templates = Templates(tmp_path)
    templates.serve_error_pages(app)

    @app.get("/things/{id:int}")
    async def thing(id: int) -> str:
        raise HTTPError(404, f"No thing {id} <script>alert(1)</script>.")

    @app.get("/secret")
    async def secret() -> str:
        raise HTTPError(403, "<b>staff</b> only")

    @app.get("/down")
    async def down() -> str:
        raise HTTPError(503, "database password is hunter2", {"Retry-After": "5"})

    @app.get("/crash")
    async def crash() -> str:
        raise RuntimeError("boom")

    with TestClient(app) as test_client:
        yield test_client


def test_browsers_get_the_sites_pages(client: TestClient) -> None:
    lost = client.get("/things/7", headers=HTML)
    assert lost.status_code == 404 and lost.headers["content-type"].startswith("text/html")
    assert "<nav>My Site</nav>" in lost.text and "Lost? (404)" in lost.text
    assert "&lt;script&gt;" in lost.text and "<script>" not in lost.text
    no_route = client.get("/nowhere", headers=HTML)
    assert no_route.status_code == 404 and "Lost? (404)" in no_route.text
    forbidden = client.get("/secret", headers=HTML)
    assert forbidden.status_code == 403 and "403 Forbidden" in forbidden.text
    assert "&lt;b&gt;staff&lt;/b&gt; only" in forbidden.text


def test_nothing_leaks_and_headers_are_kept(client: TestClient) -> None:
    down = client.get("/down", headers=HTML)
    assert down.status_code == 503 and "503 Service Unavailable" in down.text
    assert "hunter2" not in down.text and down.headers["retry-after"] == "5"
    not_allowed = client.post("/secret", headers=HTML)
    assert not_allowed.status_code == 405 and "GET" in not_allowed.headers["allow"]


def test_api_clients_and_crashes_keep_brace_handling(client: TestClient) -> None:
    api = client.get("/things/7")
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["status"] == 404
    crash = client.get("/crash", headers=HTML)
    assert crash.status_code == 500 and "boom" not in crash.text and "My Site" not in crash.text
