"""The test clients: lifespan, cookies, async use, any ASGI app, broken apps."""

import asyncio
from typing import Any

import pytest

from brace import App, PlainTextResponse, Request
from brace.testing import AsyncTestClient, TestClient


def cookie_app() -> App:
    app = App()
    app.state.started = 0
    app.state.stopped = 0

    @app.on_startup
    def up() -> None:
        app.state.started += 1

    @app.on_shutdown
    def down() -> None:
        app.state.stopped += 1

    @app.get("/login")
    async def login() -> PlainTextResponse:
        response = PlainTextResponse("in")
        response.set_cookie("session", "s3cret")
        return response

    @app.get("/me")
    async def me(request: Request) -> str:
        return request.cookies.get("session", "anonymous")

    return app


def test_cookies_round_trip_including_secure_ones() -> None:
    with TestClient(cookie_app()) as client:
        assert client.get("/me").text == "anonymous"
        client.get("/login")
        assert client.get("/me").text == "s3cret"


def test_lifespan_runs_once_with_the_block_or_lazily_without() -> None:
    app = cookie_app()
    with TestClient(app) as client:
        client.get("/me")
        assert (app.state.started, app.state.stopped) == (1, 0)
    assert (app.state.started, app.state.stopped) == (1, 1)

    lazy_app = cookie_app()
    client = TestClient(lazy_app)
    assert lazy_app.state.started == 0
    client.get("/me")
    assert lazy_app.state.started == 1
    client.close()
    assert lazy_app.state.stopped == 1


def test_async_test_client() -> None:
    app = cookie_app()

    async def main() -> None:
        async with AsyncTestClient(app) as client:
            await client.get("/login")
            assert (await client.get("/me")).text == "s3cret"
            assert app.state.started == 1
        assert app.state.stopped == 1

    asyncio.run(main())


def test_any_asgi_app_and_root_path() -> None:
    seen: dict[str, Any] = {}

    async def raw(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            raise RuntimeError("no lifespan here")
        seen.update(root=scope["root_path"], path=scope["path"], client=scope["client"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"raw"})

    with TestClient(raw, root_path="/prefix", client=("10.0.0.1", 4000)) as client:
        assert client.get("/x").text == "raw"
    assert seen == {"root": "/prefix", "path": "/prefix/x", "client": ("10.0.0.1", 4000)}


def test_broken_apps_raise_in_the_test() -> None:
    async def silent(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            return

    async def crashing(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http":
            raise ZeroDivisionError

    with TestClient(silent) as client, pytest.raises(RuntimeError, match="without sending"):
        client.get("/")
    with TestClient(crashing) as client, pytest.raises(ZeroDivisionError):
        client.get("/")
