"""The plugin protocol: batteries and user code attach to an app through four hooks."""

from __future__ import annotations

import time
from typing import Any

import pytest

from brace import App, HTTPError, Request, Router
from brace.core import App as CoreApp
from brace.core.connection import HTTPConnection
from brace.core.plugins import Plugin, hooks_of
from brace.core.routing import Route
from brace.core.types import ASGIApp, Message, Receive, Scope, Send
from brace.openapi import OpenAPI
from brace.testing import TestClient, WebSocketDenied
from brace.websockets import WebSocket


class RequestTimer(Plugin):
    """The worked example of docs/architecture.md: a Server-Timing header on every response."""

    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        async def timed(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            start = time.perf_counter()

            async def send_with_timing(message: Message) -> None:
                if message["type"] == "http.response.start":
                    took = (time.perf_counter() - start) * 1000
                    timing = (b"server-timing", f"app;dur={took:.2f}".encode())
                    message = {**message, "headers": [*message.get("headers", ()), timing]}
                await send(message)

            await app(scope, receive, send_with_timing)

        return timed


def test_a_wrap_asgi_plugin_sees_every_response_404s_included() -> None:
    app = App(plugins=[RequestTimer()])

    @app.get("/")
    async def home() -> str:
        return "hi"

    with TestClient(app) as client:
        assert client.get("/").headers["server-timing"].startswith("app;dur=")
        assert client.get("/missing").headers["server-timing"].startswith("app;dur=")


class Recorder(Plugin):
    def __init__(self) -> None:
        self.events: list[str] = []
        self.operations: list[str] = []

    def on_app_init(self, app: Any) -> None:
        self.events.append("init")

        async def added() -> dict[str, bool]:
            return {"added": True}

        app.add_route("/added-by-plugin", added)

    def on_routes_compiled(self, app: Any) -> None:
        self.events.append("compiled")
        self.operations = sorted(op.route.path for op in app.operations)


def test_on_app_init_adds_routes_and_on_routes_compiled_reads_them() -> None:
    recorder = Recorder()
    app = CoreApp()
    app.install(recorder)

    @app.get("/mine")
    async def mine() -> str:
        return "mine"

    assert recorder.events == []  # nothing runs until the app is built
    with TestClient(app) as client:
        assert client.get("/added-by-plugin").json() == {"added": True}
    assert recorder.events == ["init", "compiled"]
    assert recorder.operations == ["/added-by-plugin", "/mine"]


class Guard(Plugin):
    """Refuses routes that declare `opts={"staff_only": True}` unless a header says staff."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str]] = []

    async def before_handler(self, connection: HTTPConnection, route: Route) -> None:
        self.seen.append((type(connection).__name__, route.path))
        if route.opts.get("staff_only") and connection.headers.get("x-staff") != "yes":
            raise HTTPError(403, "staff only")


def test_before_handler_runs_after_routing_with_the_route_and_its_opts() -> None:
    guard = Guard()
    app = App(plugins=[guard])
    calls: list[str] = []

    @app.post("/payroll", opts={"staff_only": True})
    async def payroll() -> str:
        calls.append("payroll")
        return "paid"

    @app.get("/public")
    async def public() -> str:
        return "ok"

    with TestClient(app) as client:
        refused = client.post("/payroll")
        assert refused.status_code == 403
        assert refused.json()["detail"] == "staff only"
        assert calls == []  # the handler never ran
        assert client.post("/payroll", headers={"x-staff": "yes"}).text == "paid"
        assert client.get("/public").status_code == 200
        assert client.get("/nowhere").status_code == 404  # unmatched: no hook call
    assert ("Request", "/payroll") in guard.seen
    assert all(path != "/nowhere" for _, path in guard.seen)


def test_router_opts_reach_every_route_and_a_route_can_override_them() -> None:
    guard = Guard()
    app = App(plugins=[guard])
    staff = Router("/staff", opts={"staff_only": True})

    @staff.get("/stats")
    async def stats() -> str:
        return "stats"

    @staff.get("/hello", opts={"staff_only": False})
    async def hello() -> str:
        return "hello"

    app.include(staff)
    with TestClient(app) as client:
        assert client.get("/staff/stats").status_code == 403
        assert client.get("/staff/stats", headers={"x-staff": "yes"}).text == "stats"
        assert client.get("/staff/hello").text == "hello"


def test_before_handler_refuses_a_websocket_handshake_with_a_policy_close() -> None:
    guard = Guard()
    app = App(plugins=[guard])

    @app.websocket("/live", opts={"staff_only": True})
    async def live(ws: WebSocket) -> None:
        await ws.accept()
        await ws.send_text("hello")

    with TestClient(app) as client:
        with pytest.raises(WebSocketDenied):
            with client.websocket_connect("/live"):
                pass
        with client.websocket_connect("/live", headers={"x-staff": "yes"}) as ws:
            assert ws.receive_text() == "hello"
    assert ("WebSocket", "/live") in guard.seen


def test_a_plugin_error_that_is_not_http_is_a_500_not_a_crash() -> None:
    class Broken(Plugin):
        async def before_handler(self, connection: HTTPConnection, route: Route) -> None:
            raise RuntimeError("plugin bug")

    app = App(plugins=[Broken()])

    @app.get("/")
    async def home() -> str:
        return "hi"

    with TestClient(app) as client:
        response = client.get("/")
    assert response.status_code == 500
    assert "plugin bug" not in response.text  # production error pages leak nothing


def test_installing_something_that_is_not_a_plugin_is_a_type_error() -> None:
    app = App()
    with pytest.raises(TypeError, match="is not a plugin"):
        app.install(object())
    with pytest.raises(TypeError, match="is not a plugin"):
        App(plugins=["nope"])


def test_install_after_the_app_started_is_refused() -> None:
    app = App()
    app.compile()
    with pytest.raises(RuntimeError, match="install a plugin"):
        app.install(Recorder())


def test_only_overridden_hooks_count() -> None:
    class OnlyInit(Plugin):
        def on_app_init(self, app: Any) -> None:
            pass

    assert hooks_of(OnlyInit()) == {"on_app_init"}
    assert hooks_of(RequestTimer()) == {"wrap_asgi"}
    assert hooks_of(Plugin()) == set()

    class DuckTyped:
        async def before_handler(self, connection: HTTPConnection, route: Route) -> None:
            pass

    assert hooks_of(DuckTyped()) == {"before_handler"}


def test_the_core_app_has_no_batteries_until_they_are_installed() -> None:
    bare = CoreApp()

    @bare.get("/")
    async def home() -> dict[str, str]:
        return {"hello": "world"}

    with TestClient(bare) as client:
        assert client.get("/").json() == {"hello": "world"}
        assert client.get("/openapi.json").status_code == 404
        assert client.get("/docs").status_code == 404

    documented = CoreApp(plugins=[OpenAPI(title="Pets", docs_url="/api-docs")])

    @documented.get("/pets")
    async def pets() -> list[str]:
        return ["rex"]

    with TestClient(documented) as client:
        document = client.get("/openapi.json").json()
        assert document["info"]["title"] == "Pets"
        assert "/pets" in document["paths"]
        assert client.get("/api-docs").status_code == 200


def test_brace_app_keeps_its_openapi_settings_as_attributes() -> None:
    app = App(title="Shop", version="2.0", docs_url=None)
    assert app.title == "Shop" and app.docs_url is None
    app.title = "Shop API"
    with TestClient(app) as client:
        assert client.get("/openapi.json").json()["info"]["title"] == "Shop API"
        assert client.get("/docs").status_code == 404
        assert client.get("/redoc").status_code == 200


def test_request_handlers_get_the_same_connection_attributes_as_websockets() -> None:
    for cls in (Request, WebSocket):
        assert issubclass(cls, HTTPConnection)
        for name in ("headers", "query_params", "cookies", "url", "state", "session", "client"):
            assert hasattr(cls, name), (cls, name)
    for name in ("body", "form", "json", "stream"):
        assert hasattr(Request, name)
        assert not hasattr(WebSocket, name), name


def test_wrap_plan_runs_around_the_routes_a_plugin_chooses() -> None:
    from brace import HTTPError
    from brace.core.plugins import Plugin

    seen: list[str] = []

    class Stamp(Plugin):
        def wrap_plan(self, route: Any, plan: Any) -> Any:
            if not route.opts.get("stamped"):
                return plan  # every other route keeps its plan: nothing to pay

            async def stamped(scope: Any, receive: Any, send: Any, values: Any) -> None:
                if scope["query_string"] == b"refuse":
                    raise HTTPError(418, "refused by the wrapper")
                seen.append(scope["path"])

                async def send_stamped(message: Any) -> None:
                    if message["type"] == "http.response.start":
                        message = {**message, "headers": [*message["headers"], (b"x-stamp", b"1")]}
                    await send(message)

                await plan(scope, receive, send_stamped, values)

            return stamped

    app = App(plugins=[Stamp()])

    @app.get("/items/{id:int}", opts={"stamped": True})
    async def item(id: int) -> dict[str, int]:
        return {"id": id}

    @app.get("/plain")
    async def plain() -> str:
        return "plain"

    with TestClient(app) as client:
        answer = client.get("/items/7")
        assert answer.json() == {"id": 7} and answer.headers["x-stamp"] == "1"
        assert client.head("/items/7").headers["x-stamp"] == "1"  # HEAD runs the GET plan
        assert "x-stamp" not in client.get("/plain").headers
        refused = client.get("/items/7?refuse")
        assert refused.status_code == 418
        assert refused.headers["content-type"] == "application/problem+json"
        assert client.get("/items/x").status_code == 404  # routing is unchanged
    assert seen == ["/items/7", "/items/7"]
