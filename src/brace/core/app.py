"""The App: the ASGI entry point, its compiled routing plan, errors, middleware and lifespan."""

from __future__ import annotations

import inspect
import logging
import re
import traceback
import uuid
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

from ..csrf import SAFE_METHODS, is_exempt
from .background import PeriodicTasks
from .blocking import BlockingDetector
from .datastructures import State
from .errors import (
    ClientDisconnect,
    HTTPError,
    debug_page,
    error_page,
    problem,
    send_problem,
    wants_html,
)
from .formparser import FormLimits
from .handlers import Operation, Plan, compile_operation, render
from .lifespan import run_lifespans
from .matcher import Endpoint, Matcher, RouteConflict
from .params.dependencies import DependencyScope, Injector
from .params.markers import Depends
from .requests import DEFAULT_MAX_BODY_SIZE, Request, raw_header
from .responses import RedirectResponse, Response
from .routing import Lifespan, Mount, Route, Router, WebSocketRoute
from .types import ASGIApp, Message, Receive, Scope, Send
from .websocket_plan import compile_websocket

__all__ = ["App"]

logger = logging.getLogger("brace")

E = TypeVar("E", bound=Callable[..., Any])
ExceptionHandler = Callable[[Request, Any], Any]

MAX_PATH_LENGTH = 8192
_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")


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
        await send(
            {
                "type": "http.response.start",
                "status": 204,
                "headers": [(b"allow", allow)],
            }
        )
        await send({"type": "http.response.body", "body": b""})

    return options


def request_id_of(scope: Scope) -> str:
    """The id the RequestID middleware gave this request, or a fresh one for the logs."""
    rid = scope.get("brace.request_id")
    if rid:
        return str(rid)
    for key, value in scope.get("headers", ()):
        if key == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SAFE_REQUEST_ID.fullmatch(text):
                scope["brace.request_id"] = text
                return text
    rid = uuid.uuid4().hex[:16]
    scope["brace.request_id"] = rid
    return rid


class App(Router):
    """A brace application: declare routes on it and serve it with any ASGI server."""

    def __init__(
        self,
        *,
        debug: bool = False,
        lifespan: Lifespan | None = None,
        max_body_size: int = DEFAULT_MAX_BODY_SIZE,
        form_limits: FormLimits | None = None,
        redirect_slashes: bool = True,
        blocking_threshold: float = 0.1,
        exception_handlers: dict[type[BaseException] | int, ExceptionHandler] | None = None,
        dependencies: Sequence[Depends] = (),
        title: str = "brace API",
        version: str = "0.1.0",
        description: str | None = None,
        servers: Sequence[dict[str, Any]] | None = None,
        openapi_url: str | None = "/openapi.json",
        docs_url: str | None = "/docs",
        redoc_url: str | None = "/redoc",
    ) -> None:
        super().__init__(lifespan=lifespan, dependencies=dependencies)
        self.title = title
        self.version = version
        self.description = description
        self.servers = list(servers) if servers else None
        self.security_schemes: dict[str, dict[str, Any]] = {}
        self.asyncapi_url: str | None = "/asyncapi.json"
        """Where the AsyncAPI document of the WebSocket routes is served (None: nowhere)."""
        """OpenAPI security schemes; operations whose dependencies authenticate require them."""
        # Set openapi_url=None to publish no document (and no docs UI).
        self.openapi_url = openapi_url
        self.docs_url = docs_url if openapi_url else None
        self.redoc_url = redoc_url if openapi_url else None
        self._injector = Injector()
        self.dependency_overrides = self._injector.overrides
        """Replace a dependency for tests: `app.dependency_overrides[get_db] = fake_db`."""
        self.debug = debug
        self.max_body_size = max_body_size
        self.form_limits = form_limits or FormLimits()
        self.redirect_slashes = redirect_slashes
        self.state = State()
        self.extensions: dict[str, Any] = {}
        self.user_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = dict(
            exception_handlers or {}
        )
        self.blocking_detector = BlockingDetector(blocking_threshold) if debug else None
        self._compiled = False
        self._openapi_installed = False
        self._matcher = Matcher()
        self._ws_matcher = Matcher()
        self._mounts: list[tuple[str, ASGIApp]] = []
        self._all_mounts: list[Mount] = []
        self._routers: list[Router] = [self]
        self._routes: list[Route] = []
        self.operations: list[Operation] = []
        self._names: dict[str, Route | Mount] = {}
        self._by_endpoint: dict[Any, Route] = {}
        self._entry: ASGIApp = self._first_call
        self._csrf_exempt: set[Plan] = set()
        self.periodic = PeriodicTasks()
        self.shutting_down = False
        """True once lifespan shutdown has begun: /readyz answers 503 so balancers drain."""

    # -- configuration ------------------------------------------------------------------

    def add_middleware(self, middleware: Callable[..., ASGIApp], **options: Any) -> None:
        """Wrap the app in an ASGI middleware; the first one added sees requests first."""
        self._check_open("add middleware")
        self.user_middleware.append((middleware, options))

    def exception_handler(self, key: type[BaseException] | int) -> Callable[[E], E]:
        """Handle an exception type (or an HTTP error status) with `fn(request, exc)`."""

        def decorator(fn: E) -> E:
            self.exception_handlers[key] = fn
            return fn

        return decorator

    def health(
        self,
        checks: Mapping[str, Callable[[], Any]] | None = None,
        *,
        liveness: str | None = "/healthz",
        readiness: str | None = "/readyz",
        timeout: float = 5.0,
    ) -> None:
        """Serve liveness and readiness probes for load balancers (see brace.health)."""
        from ..health import install_health

        install_health(self, checks, liveness=liveness, readiness=readiness, timeout=timeout)

    def every(self, seconds: float, *, run_at_start: bool = True) -> Callable[[E], E]:
        """Run the decorated function every `seconds` while the app runs (sync functions in a
        worker thread); it never overlaps itself, and failures are logged, not fatal."""

        def decorator(fn: E) -> E:
            self._check_open("add a periodic task")
            self.periodic.add(fn, seconds, run_at_start=run_at_start)
            return fn

        return decorator

    def static(
        self, path: str, directory: str | Path, *, name: str = "static", **options: Any
    ) -> None:
        """Serve files from `directory` under `path`; `url_for(name, path=...)` links them."""
        from .staticfiles import StaticFiles

        self.mount(path, StaticFiles(directory, **options), name=name)

    # -- compilation --------------------------------------------------------------------

    def compile(self) -> None:
        """Build the routing plan once; afterwards routes can no longer change."""
        if self._compiled:
            return
        if self.openapi_url and not self._openapi_installed:
            from ..openapi import install

            self._openapi_installed = True
            install(self)
        routes, mounts, routers = self.flatten()
        matcher = Matcher()
        ws_matcher = Matcher()
        operations: list[Operation] = []
        for route in routes:
            if isinstance(route, WebSocketRoute):
                ws_matcher.add(route, compile_websocket(route, self._injector), ["WEBSOCKET"])
                continue
            operation = compile_operation(route, self._handle_error, self._injector)
            operations.append(operation)
            matcher.add(route, operation.plan, sorted(route.methods))
            if is_exempt(route.endpoint):
                self._csrf_exempt.add(operation.plan)
            if self.blocking_detector is not None:
                code = getattr(inspect.unwrap(route.endpoint), "__code__", None)
                if code is not None and inspect.iscoroutinefunction(route.endpoint):
                    self.blocking_detector.watch(code, route.describe())
        if self.blocking_detector is not None:
            # Dependencies run on the event loop, sync ones included: watch them too.
            for fn, description in self._injector.functions.items():
                code = getattr(inspect.unwrap(fn), "__code__", None)
                if code is not None:
                    self.blocking_detector.watch(code, description)
        for endpoint in matcher.iter_endpoints():
            get = endpoint.methods.get("GET")
            if get is not None and "HEAD" not in endpoint.methods:
                endpoint.methods["HEAD"] = _head_plan(get)
            if "OPTIONS" not in endpoint.methods:
                endpoint.methods["OPTIONS"] = _options_plan(endpoint)
        self._check_mounts(routes, mounts)
        self._index_names(routes, mounts)
        self._matcher = matcher
        self._ws_matcher = ws_matcher
        self._routes = routes
        self.operations = operations
        self._all_mounts = mounts
        self._mounts = [(m.path, m.app) for m in sorted(mounts, key=lambda m: -len(m.path))]
        self._routers = routers
        self._entry = self._build_stack()
        self._compiled = True

    @staticmethod
    def _check_mounts(routes: list[Route], mounts: list[Mount]) -> None:
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

    def _index_names(self, routes: list[Route], mounts: list[Mount]) -> None:
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
        self._names = names
        self._by_endpoint = by_endpoint

    def _build_stack(self) -> ASGIApp:
        from ..logging import with_access_log

        stack: ASGIApp = self._dispatch
        if not self.user_middleware:
            return with_access_log(stack)  # zero layers without middleware or an access log
        for middleware, options in reversed(self.user_middleware):
            stack = middleware(stack, **options)
        inner = stack

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await inner(scope, receive, send)
            except Exception as exc:
                if scope["type"] != "http":
                    raise
                await self._handle_error(exc, scope, receive, send)

        return with_access_log(guarded)

    def scope(self) -> DependencyScope:
        """Resolve dependencies outside a request (tasks, CLI commands, tests):
        `async with app.scope() as scope: db = await scope.resolve(get_db)`."""
        return self._injector.scope()

    # -- URL building ---------------------------------------------------------------------

    def url_for(self, name: str | Callable[..., Any], /, **params: Any) -> str:
        """The path of a route by name or handler function; extra params become the query."""
        if not self._compiled:
            routes, mounts, _ = self.flatten(freeze=False)
            self._index_names(routes, mounts)
        if isinstance(name, str):
            target = self._names.get(name)
            if target is None:
                raise LookupError(f"no route named {name!r}")
            return target.url_path_for(**params)
        route = self._by_endpoint.get(name)
        if route is None:
            raise LookupError(f"{getattr(name, '__qualname__', name)!r} is not a route handler")
        return route.url_path_for(**params)

    @property
    def all_routes(self) -> list[Route]:
        """Every route with its full path, routers included (compiles the app)."""
        self.compile()
        return list(self._routes)

    # -- ASGI -------------------------------------------------------------------------------

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope["app"] = self
        await self._entry(scope, receive, send)

    async def _first_call(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.compile()
        await self._entry(scope, receive, send)

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            root = scope.get("root_path")
            if root and path.startswith(root):
                path = path[len(root) :] or "/"
            if len(path) > MAX_PATH_LENGTH or "\ufffd" in path:
                await self._bad_path(path, scope, receive, send)
                return
            if self._mounts:
                for prefix, app in self._mounts:
                    if path.startswith(prefix) and (
                        len(path) == len(prefix) or path[len(prefix)] == "/"
                    ):
                        child = dict(scope)
                        child["root_path"] = (root or "") + prefix
                        await app(child, receive, send)
                        return
            found = self._matcher.find(scope["method"], path)
            if type(found) is tuple:
                if "brace.csrf" in scope:  # armed by SessionMiddleware
                    await self._csrf_checked(found, scope, receive, send)
                else:
                    await found[0](scope, receive, send, found[1])
                form = scope.get("brace.form")
                if form is not None:
                    await form.close()  # uploaded files, once the response is sent
                return
            await self._no_route(found, path, scope, receive, send)  # type: ignore[arg-type]
        elif kind == "lifespan":
            await self._lifespan(scope, receive, send)
        elif kind == "websocket":
            path = scope["path"]
            root = scope.get("root_path")
            if root and path.startswith(root):
                path = path[len(root) :] or "/"
            for prefix, app in self._mounts:
                if path.startswith(prefix + "/") or path == prefix:
                    child = dict(scope)
                    child["root_path"] = (root or "") + prefix
                    await app(child, receive, send)
                    return
            found = self._ws_matcher.find("WEBSOCKET", path)
            if type(found) is not tuple:
                # No such WebSocket route: refuse the handshake (the server answers 403).
                await send({"type": "websocket.close", "code": 1000})
                return
            csrf = scope.get("brace.csrf")
            if csrf is not None and not csrf.websocket_origin_ok(scope):
                # A page on another site opening a socket with the user's session cookie.
                await send({"type": "websocket.close", "code": 1008, "reason": "origin"})
                return
            await found[0](scope, receive, send, found[1])

    async def _csrf_checked(
        self, found: tuple[Plan, Sequence[Any]], scope: Scope, receive: Receive, send: Send
    ) -> None:
        plan, values = found
        if scope["method"] not in SAFE_METHODS and plan not in self._csrf_exempt:
            try:
                await scope["brace.csrf"].verify(scope, receive, "brace.session_cookie" in scope)
            except Exception as exc:
                await self._handle_error(exc, scope, receive, send)
                return
        await plan(scope, receive, send, values)

    async def _bad_path(self, path: str, scope: Scope, receive: Receive, send: Send) -> None:
        if len(path) > MAX_PATH_LENGTH:
            await self._handle_error(
                HTTPError(414, f"The path is longer than {MAX_PATH_LENGTH} characters."),
                scope,
                receive,
                send,
            )
            return
        raw = scope.get("raw_path")
        if raw is not None:
            from urllib.parse import unquote_to_bytes

            try:
                unquote_to_bytes(bytes(raw).split(b"?", 1)[0]).decode("utf-8")
            except UnicodeDecodeError:
                await self._handle_error(
                    HTTPError(400, "The path is not valid UTF-8."), scope, receive, send
                )
                return
        # A literal U+FFFD sent correctly encoded is a legitimate character.
        found = self._matcher.find(scope["method"], path)
        if type(found) is tuple:
            await found[0](scope, receive, send, found[1])
            return
        await self._no_route(found, path, scope, receive, send)  # type: ignore[arg-type]

    async def _no_route(
        self, found: Endpoint | None, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if found is not None:
            allow = ", ".join(found.allow)
            error = HTTPError(405, f"{scope['method']} is not allowed here.", {"Allow": allow})
            await self._handle_error(error, scope, receive, send)
            return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            # Never redirect to a scheme-relative URL ("//evil.example"): an open redirect.
            if not other.startswith(("//", "/\\")) and self._matcher.find("GET", other) is not None:
                location = quote(scope.get("root_path", "") + other, safe="/:@!$&'()*+,;=-._~")
                query = scope.get("query_string", b"")
                if query:
                    location += "?" + query.decode("latin-1")
                status = 301 if scope["method"] in ("GET", "HEAD") else 308
                await RedirectResponse(location, status)(scope, receive, send)
                return
        await self._handle_error(HTTPError(404), scope, receive, send)

    # -- errors -----------------------------------------------------------------------------

    def _find_handler(self, exc: BaseException) -> ExceptionHandler | None:
        handlers = self.exception_handlers
        if not handlers:
            return None
        if isinstance(exc, HTTPError) and exc.status_code in handlers:
            return handlers[exc.status_code]
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        if not isinstance(exc, HTTPError) and 500 in handlers:
            return handlers[500]
        return None

    async def _handle_error(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send
    ) -> None:
        """Turn any exception from a handler or middleware into the right response."""
        if isinstance(exc, ClientDisconnect):
            return  # nobody is listening; nothing to send, nothing went wrong on our side
        if scope.get("brace.response_started"):
            self._log_unhandled(exc, scope)
            return
        handler = self._find_handler(exc)
        if handler is not None:
            try:
                result = handler(Request(scope, receive), exc)
                if inspect.isawaitable(result):
                    result = await result
                status = exc.status_code if isinstance(exc, HTTPError) else 500
                await render(result, status, scope, receive, send, self._fallback_error)
                return
            except Exception as handler_exc:
                exc = handler_exc
        await self._fallback_error(exc, scope, receive, send)

    async def _fallback_error(
        self, exc: Exception, scope: Scope, receive: Receive, send: Send
    ) -> None:
        try:
            if isinstance(exc, HTTPError) and not self._wants_html(scope):
                # The usual API error (invalid input): sent without building a Response.
                await send_problem(send, exc)
                return
            await self.error_response(exc, scope)(scope, receive, send)
        except Exception:  # pragma: no cover - the client or a middleware broke the channel
            logger.debug("could not send the error response", exc_info=True)

    def error_response(self, exc: Exception, scope: Scope) -> Response:
        """The default answer for an exception, chosen for the client (HTML or problem+json)."""
        html = self._wants_html(scope)
        if isinstance(exc, HTTPError):
            if html:
                return error_page(exc, scope.get("brace.request_id"))
            return problem(exc, instance=None)
        rid = self._log_unhandled(exc, scope)
        if self.debug and html:
            return debug_page(exc, scope.get("method", ""), scope.get("path", ""), rid)
        error = HTTPError(500, extra={"request_id": rid})
        if self.debug:
            error.detail = f"{type(exc).__name__}: {exc}"
            error.extra["traceback"] = traceback.format_exception(exc)
        if html:
            return error_page(error, rid)
        return problem(error)

    @staticmethod
    def _wants_html(scope: Scope) -> bool:
        accept = raw_header(scope, b"accept")
        if accept is None or b"html" not in accept.lower():
            return False  # API clients and curl (*/*): no parsing needed
        return wants_html(accept.decode("latin-1"))

    def _log_unhandled(self, exc: BaseException, scope: Scope) -> str:
        rid = request_id_of(scope)
        logger.error(
            "Unhandled %s in %s %s (request id %s)",
            type(exc).__name__,
            scope.get("method", "?"),
            scope.get("path", "?"),
            rid,
            exc_info=exc,
        )
        return rid

    # -- lifespan ---------------------------------------------------------------------------

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False
        message = await receive()
        if message["type"] != "lifespan.startup":  # pragma: no cover - server bug
            return
        try:
            self.compile()
            if self.blocking_detector is not None:
                self.blocking_detector.start()
            async with run_lifespans(self, self._routers, self._all_mounts) as state:
                for key, value in state.items():
                    setattr(self.state, key, value)
                if isinstance(scope.get("state"), dict):
                    scope["state"].update(state)
                try:
                    # App-scoped dependencies start after the hooks (they may need app.state)
                    # and stop before them.
                    await self._injector.start()
                    await self.periodic.start()
                    self.shutting_down = False
                    await send({"type": "lifespan.startup.complete"})
                    started = True
                    await receive()  # lifespan.shutdown
                    self.shutting_down = True
                finally:
                    await self.periodic.stop()
                    await self._injector.stop()
        except BaseException as exc:
            text = "".join(traceback.format_exception(exc))
            phase = "shutdown" if started else "startup"
            logger.error("Application %s failed:\n%s", phase, text)
            await send({"type": f"lifespan.{phase}.failed", "message": text})
            if not isinstance(exc, Exception):
                raise
            return
        finally:
            if self.blocking_detector is not None:
                self.blocking_detector.stop()
        await send({"type": "lifespan.shutdown.complete"})

    # Kept as an explicit method so sub-classes and tools can read the header parsing rule.
    def __repr__(self) -> str:
        return f"<App debug={self.debug} routes={len(self.routes)} compiled={self._compiled}>"
