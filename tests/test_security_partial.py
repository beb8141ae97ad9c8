"""Smaller holes from the security probe (issue 15, "partial and low"), each kept closed."""

from __future__ import annotations

from pathlib import Path

import pytest

from brace import App, RedirectResponse, Request
from brace.sessions import SessionMiddleware, flash, get_flashed_messages
from brace.templating import Templates
from brace.testing import TestClient


def files_app() -> App:
    app = App()

    @app.get("/{rest:path}", name="files")
    async def files(rest: str) -> str:
        return rest

    @app.get("/go/{rest:path}")
    async def go(request: Request, rest: str) -> RedirectResponse:
        return RedirectResponse(request.url_for("files", rest=rest))

    return app


@pytest.mark.parametrize(
    ("value", "built"),
    [
        ("/evil.example/x", "/%2Fevil.example/x"),
        ("//evil.example", "/%2F/evil.example"),
        ("../../etc/passwd", "/%2E%2E/%2E%2E/etc/passwd"),
        ("a/./b", "/a/%2E/b"),
        ("\\\\evil.example", "/%5C%5Cevil.example"),
        ("docs/read me.txt", "/docs/read%20me.txt"),
    ],
)
def test_url_for_never_builds_a_protocol_relative_or_climbing_url(value: str, built: str) -> None:
    assert files_app().url_for("files", rest=value) == built


def test_a_built_url_round_trips_to_the_same_value() -> None:
    app = files_app()
    with TestClient(app) as client:
        url = app.url_for("files", rest="/evil.example/x")
        assert client.get(url).text == "/evil.example/x"
        redirect = client.get("/go/%2Fevil.example/x", follow_redirects=False)
        assert not redirect.headers["location"].startswith("//")


def test_debug_is_refused_in_production(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRACE_ENV", "prod")
    app = App(debug=True)  # declared (so `brace check` can report it), never started
    app.compile()
    with pytest.raises(RuntimeError, match=r"App\(debug=True\) is refused when BRACE_ENV=prod"):
        with TestClient(app):
            pass
    with TestClient(App()):  # without debug: starts
        pass


@pytest.mark.parametrize("name", ["page.j2", "page.html.j2", "page.jinja2", "page.jinja"])
def test_jinja_extensions_are_autoescaped(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("<p>{{ text }}</p>")
    templates = Templates(tmp_path)
    app = App()

    @app.get("/")
    async def page(request: Request) -> object:
        return templates.render(request, name, {"text": "<script>alert(1)</script>"})

    with TestClient(app) as client:
        body = client.get("/").text
    assert "<script>" not in body and "&lt;script&gt;" in body


def test_flashing_in_a_loop_never_overflows_the_session_cookie() -> None:
    app = App()
    app.add_middleware(SessionMiddleware, secret_key="a-test-secret-that-is-long-enough")

    @app.get("/spam")
    async def spam(request: Request) -> str:
        for number in range(500):
            flash(request, f"message {number} " + "x" * 200, category="c" * 100)
        return "done"

    @app.get("/show")
    async def show(request: Request) -> list[object]:
        return get_flashed_messages(request, with_categories=True)

    with TestClient(app) as client:
        response = client.get("/spam")
        assert response.status_code == 200
        assert len(response.headers["set-cookie"]) < 4000
        shown = client.get("/show").json()
    assert shown, "the newest messages are kept"
    assert shown[-1][1].startswith("message 499 ")
    assert all(len(category) <= 32 for category, _ in shown)
    assert sum(len(text) for _, text in shown) <= 1024


def test_production_engines_hide_bound_parameters(monkeypatch: pytest.MonkeyPatch) -> None:
    from brace.db import Database

    assert Database("sqlite+aiosqlite://").engine.sync_engine.hide_parameters is False
    monkeypatch.setenv("BRACE_ENV", "prod")
    assert Database("sqlite+aiosqlite://").engine.sync_engine.hide_parameters is True


def test_production_refuses_the_console_mailer_and_unchecked_hosts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from brace.auth import Auth
    from brace.db import Database
    from brace.mail import MemoryMailer
    from brace.middleware import TrustedHostMiddleware

    monkeypatch.setenv("BRACE_ENV", "prod")
    app = App()
    Database("sqlite+aiosqlite://", app=app)
    Auth(app, secret_key="k" * 40)
    with pytest.raises(RuntimeError, match="console mailer"):
        app.compile()
    unchecked_hosts = App()
    Database("sqlite+aiosqlite://", app=unchecked_hosts)
    Auth(unchecked_hosts, secret_key="k" * 40, mailer=MemoryMailer())
    with pytest.raises(RuntimeError, match="needs TrustedHostMiddleware"):
        unchecked_hosts.compile()
    ready = App()
    ready.add_middleware(TrustedHostMiddleware, allowed_hosts=["example.com"])
    Database("sqlite+aiosqlite://", app=ready)
    Auth(ready, secret_key="k" * 40, mailer=MemoryMailer())
    ready.compile()
