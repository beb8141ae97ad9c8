"""Compile declared routes into matchers and plans, once, when the app is built.

Pure start-up work: automatic HEAD and OPTIONS answers, mount and route conflicts, and the
name index `url_for` reads.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

from .blocking import BlockingDetector
from .handlers import Operation, Plan, compile_operation
from .matcher import Endpoint, Matcher, RouteConflict
from .params.dependant import compile_dependant
from .params.dependencies import Injector, Solver
from .requests import Request
from .routing import Mount, Route, WebSocketRoute
from .scope import ROUTE_VALUES
from .sending import ErrorHandler
from .types import ASGIApp, Message, Receive, Scope, Send
from .websocket_plan import compile_websocket, refuse
from .websockets import WebSocket

__all__ = ["CompiledRoutes", "check_mounts", "compile_routes", "guard_mount", "index_names"]


def _strip_body(send: Send) -> Send:
    """A `send` that drops body bytes: automatic HEAD runs the GET handler through it."""

    async def send_headers_only(message: Message) -> None:
        if message["type"] == "http.response.body" and message.get("body"):
            message = {**message, "body": b""}
        await send(message)

    return send_headers_only


def _head_plan(get_plan: Plan) -> Plan:
    async def head(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        await get_plan(scope, receive, _strip_body(send), values)

    return head


def _options_plan(endpoint: Endpoint) -> Plan:
    async def options(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        allow = ", ".join(endpoint.allow).encode()
        await send({"type": "http.response.start", "status": 204, "headers": [(b"allow", allow)]})
        await send({"type": "http.response.body", "body": b""})

    return options


class CompiledRoutes:
    """What compiling produced: the two matchers and the operations for documents."""

    def __init__(self) -> None:
        self.matcher = Matcher()
        self.ws_matcher = Matcher()
        self.operations: list[Operation] = []


def compile_routes(
    routes: list[Route],
    on_error: ErrorHandler,
    injector: Injector,
    detector: BlockingDetector | None,
    wrappers: Sequence[Callable[[Route, Plan], Plan]] = (),
) -> CompiledRoutes:
    """Plans for every route, with HEAD and OPTIONS added where the handler has none;
    `wrappers` are the plugins' `wrap_plan` hooks, applied in order."""
    compiled = CompiledRoutes()
    for route in routes:
        if isinstance(route, WebSocketRoute):
            compiled.ws_matcher.add(route, compile_websocket(route, injector), ["WEBSOCKET"])
            continue
        operation = compile_operation(route, on_error, injector)
        compiled.operations.append(operation)
        plan = _wrapped(route, operation.plan, wrappers, on_error)
        compiled.matcher.add(route, plan, sorted(route.methods))
        if detector is not None:
            code = getattr(inspect.unwrap(route.endpoint), "__code__", None)
            if code is not None and inspect.iscoroutinefunction(route.endpoint):
                detector.watch(code, route.describe())
    if detector is not None:
        # Async dependencies run on the event loop (sync ones in the thread pool): watch them.
        for fn, description in injector.functions.items():
            code = getattr(inspect.unwrap(fn), "__code__", None)
            if code is not None:
                detector.watch(code, description)
    for endpoint in compiled.matcher.iter_endpoints():
        get = endpoint.methods.get("GET")
        if get is not None and "HEAD" not in endpoint.methods:
            endpoint.add_automatic("HEAD", _head_plan(get))
        if "OPTIONS" not in endpoint.methods:
            endpoint.add_automatic("OPTIONS", _options_plan(endpoint))
    return compiled


def _wrapped(
    route: Route,
    plan: Plan,
    wrappers: Sequence[Callable[[Route, Plan], Plan]],
    on_error: ErrorHandler,
) -> Plan:
    """The plugins' wrappers around a route's plan (the plan itself when none wrapped it)."""
    wrapped = _through_middleware(route.middleware, plan) if route.middleware else plan
    for wrap in wrappers:
        wrapped = wrap(route, wrapped)
    return plan if wrapped is plan else _answering_errors(wrapped, on_error)


def _through_middleware(middleware: Sequence[Callable[[Any], Any]], plan: Plan) -> Plan:
    """The route's own ASGI middleware (a router's), built once, around its plan; the path
    values travel in the scope, where middleware that copies the scope keeps them."""

    async def endpoint(scope: Scope, receive: Receive, send: Send) -> None:
        await plan(scope, receive, send, scope[ROUTE_VALUES])

    chain: Any = endpoint
    for factory in reversed(middleware):
        chain = factory(chain)

    async def through(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        scope[ROUTE_VALUES] = values
        await chain(scope, receive, send)

    return through


def _answering_errors(plan: Plan, on_error: ErrorHandler) -> Plan:
    """A plugin's plan wrapper may refuse with an error (a 429): answer it like a handler's."""

    async def answering(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        try:
            await plan(scope, receive, send, values)
        except Exception as exc:
            await on_error(exc, scope, receive, send)

    return answering


def check_mounts(routes: list[Route], mounts: list[Mount]) -> None:
    """Refuse mounts that overlap each other or hide a route."""
    for index, mount in enumerate(mounts):
        for other in mounts[index + 1 :]:
            a, b = sorted((mount.path, other.path), key=len)
            if b == a or b.startswith(a + "/"):
                raise RouteConflict(f"mount {other.path!r} conflicts with mount {mount.path!r}")
        for route in routes:
            if route.path == mount.path or route.path.startswith(mount.path + "/"):
                raise RouteConflict(
                    f"route {route.describe()} is hidden by the app mounted at {mount.path!r}"
                )


def index_names(
    routes: list[Route], mounts: list[Mount]
) -> tuple[dict[str, Route | Mount], dict[Any, Route]]:
    """Routes and mounts by name, and routes by handler, for `url_for`."""
    names: dict[str, Route | Mount] = {}
    by_endpoint: dict[Any, Route] = {}
    for route in routes:
        existing = names.get(route.name)
        if isinstance(existing, Route) and existing.endpoint is not route.endpoint:
            raise RouteConflict(
                f"route name {route.name!r} is used by {existing.describe()} and "
                f"{route.describe()}; pass name=... to tell them apart"
            )
        names.setdefault(route.name, route)
        by_endpoint.setdefault(route.endpoint, route)
    for mount in mounts:
        if mount.name is None:
            continue
        if mount.name in names:
            raise RouteConflict(f"mount name {mount.name!r} is already used by a route")
        names[mount.name] = mount
    return names, by_endpoint


def _no_value() -> None:
    """The root of a mount's dependency tree: the mount itself takes no parameters."""


def guard_mount(mount: Mount, injector: Injector, on_error: ErrorHandler) -> ASGIApp:
    """The mounted app behind the dependencies of the routers and app it sits in, so that
    `dependencies=[login_required]` guards a mounted sub-app or static directory as it guards
    the routes beside it. Generator dependencies close after the mounted app has answered."""
    dependant = compile_dependant(
        _no_value, {}, mount.path, mount.dependencies, where=f"mount {mount.path!r}"
    )
    inner = mount.app

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind not in ("http", "websocket"):
            await inner(scope, receive, send)
            return
        connection = Request(scope, receive) if kind == "http" else WebSocket(scope, receive, send)
        solver = Solver(connection, (), injector, {}, mount.path)
        try:
            await solver.arguments(dependant)
            solver.raise_for_errors()
        except Exception as exc:
            await solver.close(exc)
            if kind == "http":
                await on_error(exc, scope, receive, send)
            else:
                await refuse(send, exc)
            return
        failure: BaseException | None = None
        try:
            await inner(scope, receive, send)
        except BaseException as exc:
            failure = exc
            raise
        finally:
            await solver.close(failure)

    return guarded
