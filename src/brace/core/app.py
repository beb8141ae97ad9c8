"""The App: the ASGI entry point, its compiled routing plan, middleware, plugins and errors."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypedDict, TypeVar, Unpack
from urllib.parse import quote, unquote_to_bytes

from .background import PeriodicTasks
from .blocking import BlockingDetector
from .compiler import check_mounts, compile_routes, guard_mount, index_names
from .connection import HTTPConnection
from .datastructures import State
from .error_handling import ErrorHandling, ExceptionHandler
from .errors import HTTPError
from .forms import FormLimits
from .handlers import Operation
from .lifespan import serve_lifespan
from .markers import Depends
from .matcher import Match, Matcher
from .params.dependencies import DependencyScope, Injector
from .plugins import hooks_of
from .requests import DEFAULT_MAX_BODY_SIZE, Request
from .responses import RedirectResponse
from .routing import Lifespan, Mount, Route, Router, check_options
from .scope import BEFORE_HANDLER, FORM
from .types import ASGIApp, Receive, Scope, Send
from .websocket_plan import refuse
from .websockets import WebSocket

__all__ = ["App"]

E = TypeVar("E", bound=Callable[..., Any])
BeforeHandlerHook = Callable[[HTTPConnection, Route], Any]

MAX_PATH_LENGTH = 8192


def _path_error(path: str, scope: Scope) -> HTTPError | None:
    """What is wrong with an unusual path (too long, or not valid UTF-8), if anything; a
    correctly encoded U+FFFD is a legitimate character and routes like any other."""
    if len(path) > MAX_PATH_LENGTH:
        return HTTPError(414, f"The path is longer than {MAX_PATH_LENGTH} characters.")
    raw = scope.get("raw_path")
    if raw is not None:
        try:
            unquote_to_bytes(bytes(raw).split(b"?", 1)[0]).decode("utf-8")
        except UnicodeDecodeError:
            return HTTPError(400, "The path is not valid UTF-8.")
    return None


class AppOptions(TypedDict, total=False):
    """What `App(...)` accepts; anything else is a TypeError naming the closest option."""

    debug: bool
    """Debug pages, tracebacks in problem documents, the blocking detector (never in prod)."""
    lifespan: Lifespan | None
    max_body_size: int
    """The largest JSON or urlencoded body read, in bytes (default 1 MiB)."""
    form_limits: FormLimits | None
    redirect_slashes: bool
    blocking_threshold: float
    """Seconds a handler may hold the event loop before debug mode warns."""
    exception_handlers: dict[type[BaseException] | int, ExceptionHandler] | None
    dependencies: Sequence[Depends]
    plugins: Sequence[object]


class App(Router):
    """A brace application: declare routes on it and serve it with any ASGI server."""

    def __init__(self, **options: Unpack[AppOptions]) -> None:
        check_options(options, AppOptions, "App()")
        debug = options.get("debug", False)
        blocking_threshold = options.get("blocking_threshold", 0.1)
        super().__init__(
            lifespan=options.get("lifespan"), dependencies=options.get("dependencies", ())
        )
        self._injector = Injector()
        self.dependency_overrides = self._injector.overrides
        """Replace a dependency for tests: `app.dependency_overrides[get_db] = fake_db`."""
        self._errors = ErrorHandling({}, debug)
        self.debug = debug
        self.max_body_size = options.get("max_body_size", DEFAULT_MAX_BODY_SIZE)
        self.form_limits = options.get("form_limits") or FormLimits()
        self.redirect_slashes = options.get("redirect_slashes", True)
        self.state = State()
        self.extensions: dict[str, Any] = {}
        """Where batteries keep their per-app objects (the Database, Channels...)."""
        self.user_middleware: list[tuple[Callable[..., ASGIApp], dict[str, Any]]] = []
        self.exception_handlers: dict[type[BaseException] | int, ExceptionHandler] = dict(
            options.get("exception_handlers") or {}
        )
        self._errors.handlers = self.exception_handlers
        self.blocking_detector = BlockingDetector(blocking_threshold) if debug else None
        self.plugins: list[object] = []
        self._compiled = False
        self._plugins_initialized = False
        self._matcher = Matcher()
        self._ws_matcher = Matcher()
        self._mounts: list[tuple[str, ASGIApp]] = []
        self._all_mounts: list[Mount] = []
        self._routers: list[Router] = [self]
        self._routes: list[Route] = []
        self.operations: list[Operation] = []
        self._names: dict[str, Route | Mount] = {}
        self._by_endpoint: dict[Any, Route] = {}
        self._before_handler: list[BeforeHandlerHook] = []
        self._entry: ASGIApp = self._first_call
        self.periodic = PeriodicTasks()
        self.shutting_down = False
        """True once lifespan shutdown has begun: /readyz answers 503 so balancers drain."""
        for plugin in options.get("plugins", ()):
            self.install(plugin)

    @property
    def debug(self) -> bool:
        """Debug pages, tracebacks in problem documents and the blocking detector."""
        return self._errors.debug

    @debug.setter
    def debug(self, value: bool) -> None:
        self._errors.debug = value

    # -- configuration ------------------------------------------------------------------

    def install(self, plugin: object) -> None:
        """Attach a plugin (see `brace.core.plugins`); its `on_app_init` runs when the app
        is built, after everything declared until then."""
        self._check_open("install a plugin")
        if not hooks_of(plugin):
            raise TypeError(
                f"{plugin!r} is not a plugin: it has none of on_app_init, on_routes_compiled, "
                "before_handler or wrap_asgi"
            )
        self.plugins.append(plugin)

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

    def scope(self) -> DependencyScope:
        """Resolve dependencies outside a request (tasks, CLI commands, tests):
        `async with app.scope() as scope: db = await scope.resolve(get_db)`."""
        return self._injector.scope()

    # -- compilation --------------------------------------------------------------------

    def compile(self) -> None:
        """Build the app once: plugins attach, routes compile; afterwards nothing changes."""
        if self._compiled:
            return
        if not self._plugins_initialized:  # once, even if compiling fails and is retried
            self._plugins_initialized = True
            for plugin in list(self.plugins):
                if "on_app_init" in hooks_of(plugin):
                    plugin.on_app_init(self)  # type: ignore[attr-defined]
        routes, mounts, routers = self.flatten()
        wrappers = [p.wrap_plan for p in self.plugins if "wrap_plan" in hooks_of(p)]  # type: ignore[attr-defined]
        compiled = compile_routes(
            routes, self._errors.handle, self._injector, self.blocking_detector, wrappers
        )
        check_mounts(routes, mounts)
        self._names, self._by_endpoint = index_names(routes, mounts)
        self._matcher = compiled.matcher
        self._ws_matcher = compiled.ws_matcher
        self._routes = routes
        self.operations = compiled.operations
        self._all_mounts = mounts
        self._mounts = [
            (
                m.path,
                guard_mount(m, self._injector, self._errors.handle) if m.dependencies else m.app,
            )
            for m in sorted(mounts, key=lambda m: -len(m.path))
        ]
        self._routers = routers
        self._compiled = True
        for plugin in self.plugins:
            if "on_routes_compiled" in hooks_of(plugin):
                plugin.on_routes_compiled(self)  # type: ignore[attr-defined]
        self._entry = self._build_stack()

    def _build_stack(self) -> ASGIApp:
        hooks = [p.before_handler for p in self.plugins if "before_handler" in hooks_of(p)]  # type: ignore[attr-defined]
        stack: ASGIApp = self._dispatch
        if self.user_middleware:
            for middleware, options in reversed(self.user_middleware):
                stack = middleware(stack, **options)
            stack = self._guarded(stack)
        self._before_handler = hooks
        for plugin in self.plugins:
            if "wrap_asgi" in hooks_of(plugin):
                stack = plugin.wrap_asgi(stack)  # type: ignore[attr-defined]
        return stack

    def _guarded(self, inner: ASGIApp) -> ASGIApp:
        """Errors raised by middleware become error responses like handler errors do."""
        handle = self._errors.handle

        async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
            try:
                await inner(scope, receive, send)
            except Exception as exc:
                if scope["type"] != "http":
                    raise
                await handle(exc, scope, receive, send)

        return guarded

    # -- URL building ---------------------------------------------------------------------

    def url_for(self, name: str | Callable[..., Any], /, **params: Any) -> str:
        """The path of a route by name or handler function; extra params become the query."""
        if not self._compiled:
            routes, mounts, _ = self.flatten(freeze=False)
            self._names, self._by_endpoint = index_names(routes, mounts)
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

    def _route_path(self, scope: Scope) -> str:
        path: str = scope["path"]
        root = scope.get("root_path")
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        return path

    async def _to_mount(self, path: str, scope: Scope, receive: Receive, send: Send) -> bool:
        for prefix, app in self._mounts:
            if path.startswith(prefix) and (len(path) == len(prefix) or path[len(prefix)] == "/"):
                child = dict(scope)
                child["root_path"] = (scope.get("root_path") or "") + prefix
                await app(child, receive, send)
                return True
        return False

    async def _dispatch(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "http":
            path = scope["path"]
            root = scope.get("root_path")
            if root and path.startswith(root):  # inline: the hottest lines of the framework
                path = path[len(root) :] or "/"
            if len(path) > MAX_PATH_LENGTH or "\ufffd" in path:
                error = _path_error(path, scope)
                if error is not None:
                    await self._errors.handle(error, scope, receive, send)
                    return
            if self._mounts and await self._to_mount(path, scope, receive, send):
                return
            found = self._matcher.find(scope["method"], path)
            if found.target is None:
                await self._no_route(found, path, scope, receive, send)
                return
            # Every matched request takes this one path: post-routing checks, then the plan.
            if (not self._before_handler and BEFORE_HANDLER not in scope) or await self._checked(
                found, scope, receive, send
            ):
                await found.target(scope, receive, send, found.values)
            form = scope.get(FORM)
            if form is not None:
                await form.close()  # uploaded files, once the response is sent
        elif kind == "lifespan":
            await serve_lifespan(self, scope, receive, send)
        elif kind == "websocket":
            await self._dispatch_websocket(scope, receive, send)

    async def _checked(self, found: Match, scope: Scope, receive: Receive, send: Send) -> bool:
        """Run the post-routing hooks; False when one refused (its error was answered)."""
        assert found.endpoint is not None
        route = found.endpoint.route_for(scope["method"])
        try:
            await self._run_checks(Request(scope, receive), route)
        except Exception as exc:
            await self._errors.handle(exc, scope, receive, send)
            return False
        return True

    async def _run_checks(self, connection: HTTPConnection, route: Route) -> None:
        """The post-routing hooks: the plugins', then those a middleware attached."""
        for hook in (*self._before_handler, *connection.scope.get(BEFORE_HANDLER, ())):
            await hook(connection, route)

    async def _dispatch_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = self._route_path(scope)
        if self._mounts and await self._to_mount(path, scope, receive, send):
            return
        found = self._ws_matcher.find("WEBSOCKET", path)
        if found.target is None or found.endpoint is None:
            # No such WebSocket route: refuse the handshake (the server answers 403).
            await send({"type": "websocket.close", "code": 1000})
            return
        if self._before_handler or BEFORE_HANDLER in scope:
            route = found.endpoint.route_for("WEBSOCKET")
            try:
                await self._run_checks(WebSocket(scope, receive, send), route)
            except HTTPError as error:
                await refuse(send, error)  # a page on another site, say
                return
        await found.target(scope, receive, send, found.values)

    async def _no_route(
        self, found: Match, path: str, scope: Scope, receive: Receive, send: Send
    ) -> None:
        if found.endpoint is not None:
            allow = ", ".join(found.endpoint.allow)
            error = HTTPError(405, f"{scope['method']} is not allowed here.", {"Allow": allow})
            await self._errors.handle(error, scope, receive, send)
            return
        if self.redirect_slashes and path != "/":
            other = path[:-1] if path.endswith("/") else path + "/"
            # Never redirect to a scheme-relative URL ("//evil.example"): an open redirect.
            if (
                not other.startswith(("//", "/\\"))
                and self._matcher.find("GET", other).endpoint is not None
            ):
                location = quote(scope.get("root_path", "") + other, safe="/:@!$&'()*+,;=-._~")
                query = scope.get("query_string", b"")
                if query:
                    location += "?" + query.decode("latin-1")
                status = 301 if scope["method"] in ("GET", "HEAD") else 308
                await RedirectResponse(location, status)(scope, receive, send)
                return
        await self._errors.handle(HTTPError(404), scope, receive, send)

    # -- errors -----------------------------------------------------------------------------

    def error_response(self, exc: Exception, scope: Scope) -> Any:
        """The default answer for an exception, chosen for the client (HTML or problem+json)."""
        return self._errors.response_for(exc, scope)

    def __repr__(self) -> str:
        return f"<App debug={self.debug} routes={len(self.routes)} compiled={self._compiled}>"
