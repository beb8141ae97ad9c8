"""Lifespan: hooks, context managers, composition across routers and mounts, failures."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest

from brace import App, Router
from brace.testing import TestClient


def test_hooks_and_lifespans_compose_outer_first_up_and_last_down() -> None:
    events: list[str] = []

    def tracker(name: str) -> Any:
        @asynccontextmanager
        async def lifespan(app: App) -> AsyncIterator[dict[str, str]]:
            events.append(f"{name} up")
            yield {name: "ready"}
            events.append(f"{name} down")

        return lifespan

    app = App(lifespan=tracker("app"))
    api = Router(prefix="/api", lifespan=tracker("router"))
    inner = Router(prefix="/inner", lifespan=tracker("inner"))
    api.include(inner)
    sub = App(lifespan=tracker("mounted"))

    @app.on_startup
    async def app_start() -> None:
        events.append("app hook up")

    @app.on_shutdown
    def app_stop() -> None:
        events.append("app hook down")

    @api.on_startup
    def api_start() -> None:
        events.append("router hook up")

    app.include(api)
    app.mount("/sub", sub)

    @app.get("/")
    async def index() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/").text == "ok"
        assert events == [
            "app up",
            "app hook up",
            "router up",
            "router hook up",
            "inner up",
            "mounted up",
        ]
        events.clear()
    assert events == ["mounted down", "inner down", "router down", "app hook down", "app down"]
    assert app.state.app == "ready"
    assert app.state.router == "ready"


def test_startup_failure_is_reported_with_the_error() -> None:
    app = App()

    @app.on_startup
    async def broken() -> None:
        raise ConnectionError("database unreachable")

    client = TestClient(app)
    with pytest.raises(RuntimeError, match="database unreachable"):
        client.__enter__()
    client.close()


def test_mounted_app_startup_failure_stops_the_parent() -> None:
    sub = App()

    @sub.on_startup
    def broken() -> None:
        raise ValueError("sub config missing")

    app = App()
    app.mount("/sub", sub)
    client = TestClient(app)
    with pytest.raises(RuntimeError, match="sub config missing"):
        client.__enter__()
    client.close()


def test_mounted_apps_without_lifespan_support_are_tolerated() -> None:
    async def plain(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            raise RuntimeError("only http here")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"plain"})

    app = App()
    app.mount("/plain", plain)
    with TestClient(app) as client:
        assert client.get("/plain/x").text == "plain"


def test_shutdown_failure_is_reported() -> None:
    app = App()

    @app.on_shutdown
    def broken() -> None:
        raise RuntimeError("flush failed")

    client = TestClient(app)
    client.__enter__()
    with pytest.raises(RuntimeError, match="flush failed"):
        client.close()
