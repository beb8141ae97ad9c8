"""Router-level middleware: ASGI middleware around one router's routes only, nested routers
composing outermost first, built once, path values intact, short-circuits answered."""

from __future__ import annotations

import functools
from typing import Any

from brace import App, Router
from brace.middleware import SecurityHeadersMiddleware
from brace.testing import TestClient

built: list[str] = []


class Stamp:
    """Adds `x-stamp: <name>` (appended, so nesting shows the order) and records instances."""

    def __init__(self, app: Any, name: str) -> None:
        self.app = app
        self.name = name
        built.append(name)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async def stamped(message: Any) -> None:
            if message["type"] == "http.response.start":
                extra = (b"x-stamp", self.name.encode())
                message = {**message, "headers": [*message["headers"], extra]}
            await send(message)

        await self.app(dict(scope), receive, stamped)  # a copy of the scope, as many do


class Gate:
    """Refuses requests without `x-key` itself, never calling the route."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if (b"x-key", b"open") not in scope["headers"]:
            await send({"type": "http.response.start", "status": 401, "headers": []})
            await send({"type": "http.response.body", "body": b"no key"})
            return
        await self.app(scope, receive, send)


def make_app() -> App:
    built.clear()
    app = App()
    inner = Router(prefix="/inner", middleware=[functools.partial(Stamp, name="inner")])

    @inner.get("/items/{id:int}")
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    outer = Router(
        prefix="/admin",
        middleware=[functools.partial(Stamp, name="outer"), Gate, SecurityHeadersMiddleware],
    )

    @outer.get("/dashboard")
    async def dashboard() -> str:
        return "dashboard"

    outer.include(inner)
    app.include(outer)

    @app.get("/public")
    async def public() -> str:
        return "public"

    return app


def test_middleware_wraps_only_its_routers_routes() -> None:
    with TestClient(make_app()) as client:
        key = {"x-key": "open"}
        dashboard = client.get("/admin/dashboard", headers=key)
        assert dashboard.text == "dashboard"
        assert dashboard.headers.get_list("x-stamp") == ["outer"]
        assert dashboard.headers["x-content-type-options"] == "nosniff"
        nested = client.get("/admin/inner/items/7", headers=key)
        assert nested.json() == {"id": 7}  # path values survive a copied scope
        assert nested.headers.get_list("x-stamp") == ["inner", "outer"]  # outer is outermost
        public = client.get("/public")
        assert public.text == "public" and "x-stamp" not in public.headers
        assert "x-content-type-options" not in public.headers
        assert client.head("/admin/dashboard", headers=key).status_code == 200


def test_a_middleware_may_answer_itself() -> None:
    with TestClient(make_app()) as client:
        refused = client.get("/admin/dashboard")
        assert refused.status_code == 401 and refused.text == "no key"
        assert client.get("/admin/inner/items/x", headers={"x-key": "open"}).status_code == 404
        assert client.get("/admin/inner/items/<script>").status_code == 404


def test_middleware_is_built_once_per_route_not_per_request() -> None:
    app = make_app()
    with TestClient(app) as client:
        before = list(built)
        for _ in range(5):
            client.get("/admin/dashboard", headers={"x-key": "open"})
        assert built == before  # nothing built while serving
    assert built.count("outer") == 2  # one chain for each of the two /admin routes
