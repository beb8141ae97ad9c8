"""Routes, mounts and routers: what the user declares. Matching lives in `_matcher`."""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, TypedDict, TypeVar, Unpack
from urllib.parse import urlencode

from .converters import CONVERTERS, NO_MATCH, Converter
from .markers import Depends
from .types import ASGIApp

__all__ = ["OPENAPI_EXTRA", "Mount", "PathParam", "Route", "RouteOptions", "Router", "parse_path"]

F = TypeVar("F", bound=Callable[..., Any])
Lifespan = Callable[[Any], AbstractAsyncContextManager[Any]]

HTTP_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})
_PARAM = re.compile(r"^\{([a-zA-Z_][a-zA-Z0-9_]*)(?::([a-zA-Z_][a-zA-Z0-9_]*))?\}$")


@dataclass(frozen=True, slots=True)
class PathParam:
    """One `{name:converter}` segment of a route path."""

    name: str
    converter: Converter

    def __str__(self) -> str:
        conv = self.converter.name
        return "{" + self.name + ("" if conv == "str" else f":{conv}") + "}"


Segment = str | PathParam


def parse_path(path: str, where: str = "") -> tuple[Segment, ...]:
    """Split a route path into static text and parameters, failing loudly on mistakes."""
    at = f" (in {where})" if where else ""
    if path == "":
        return ()  # "" names a router's prefix itself; checked again once prefixed
    if not path.startswith("/"):
        raise ValueError(f"route path {path!r} must start with '/'{at}")
    segments: list[Segment] = []
    seen: set[str] = set()
    parts = path[1:].split("/")
    for index, part in enumerate(parts):
        if "{" not in part and "}" not in part:
            segments.append(part)
            continue
        match = _PARAM.match(part)
        if match is None:
            raise ValueError(
                f"route path {path!r}: segment {part!r} must be exactly one parameter like "
                f"'{{name}}' or '{{name:int}}'{at}"
            )
        name, conv_name = match.group(1), match.group(2) or "str"
        converter = CONVERTERS.get(conv_name)
        if converter is None:
            known = ", ".join(sorted(CONVERTERS))
            raise ValueError(
                f"route path {path!r}: unknown converter {conv_name!r} (known: {known}){at}"
            )
        if name in seen:
            raise ValueError(f"route path {path!r}: parameter {name!r} appears twice{at}")
        if converter.catch_all and index != len(parts) - 1:
            raise ValueError(
                f"route path {path!r}: a '{{{name}:path}}' parameter must be the last segment{at}"
            )
        seen.add(name)
        segments.append(PathParam(name, converter))
    return tuple(segments)


def _describe(endpoint: Any) -> str:
    module = getattr(endpoint, "__module__", None) or "?"
    qualname = getattr(endpoint, "__qualname__", None) or repr(endpoint)
    return f"{module}.{qualname}"


def build_path(segments: Sequence[Segment], params: dict[str, Any], what: str) -> str:
    """Fill the parameters into a path; unused params become the query string."""
    remaining = dict(params)
    out: list[str] = []
    for segment in segments:
        if isinstance(segment, str):
            out.append(segment)
            continue
        if segment.name not in remaining:
            raise LookupError(f"url_for({what!r}) is missing the path parameter {segment.name!r}")
        value = remaining.pop(segment.name)
        try:
            out.append(segment.converter.to_url(value))
        except (TypeError, ValueError) as exc:
            raise LookupError(
                f"url_for({what!r}): {segment.name}={value!r} does not fit "
                f"{segment.converter.name!r}: {exc}"
            ) from None
    path = "/" + "/".join(out)
    if remaining:
        query: list[tuple[str, Any]] = []
        for key, value in remaining.items():
            if isinstance(value, (list, tuple)):
                query.extend((key, item) for item in value)
            elif value is not None:
                query.append((key, value))
        if query:
            path += "?" + urlencode(query)
    return path


OPENAPI_EXTRA = "openapi_extra"
"""The route opt whose `x-` keys the OpenAPI document adds to the operation (what plugins
document about a route: `opts={"openapi_extra": {"x-rate-limit": [...]}}`)."""


class RouteOptions(TypedDict, total=False):
    """Options every route declaration accepts (`@app.get(path, **options)`)."""

    name: str | None
    """For `url_for`; default: the handler's name."""
    status_code: int | None
    """The status of non-`Response` return values (default 200)."""
    tags: Sequence[str]
    summary: str | None
    description: str | None
    include_in_schema: bool
    deprecated: bool
    response_model: Any
    """The declared response type, instead of the return annotation."""
    responses: Mapping[int, Any] | None
    """Statuses to document: {404: "No such pet"} or {409: {"description": ..., "model": T}}."""
    dependencies: Sequence[Depends]
    middleware: Sequence[Callable[[Any], Any]]
    """ASGI middleware for this route only: factories taking the app (a class, or
    `functools.partial(cls, **options)`); a router's wrap its routes, outermost first."""
    opts: Mapping[str, Any]
    """Metadata for plugins (`{"csrf_exempt": True}`); a router's opts apply to its routes."""


def check_options(options: Mapping[str, Any], allowed: type, where: str) -> None:
    """Refuse an option that does not exist, naming the closest one that does: a typo such
    as `status=201` would otherwise be silently ignored."""
    valid = allowed.__annotations__
    for key in options:
        if key not in valid:
            close = difflib.get_close_matches(key, valid, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            raise TypeError(
                f"{where}: unknown option {key!r}{hint} (valid options: {', '.join(sorted(valid))})"
            )


class Route:
    """An HTTP endpoint: a path pattern, the methods it answers and the handler to call."""

    def __init__(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> None:
        check_options(options, RouteOptions, f"route {path!r}")
        self.path = path
        self.endpoint = endpoint
        self.segments = parse_path(path, _describe(endpoint))
        wanted = {m.upper() for m in (methods or ("GET",))}
        unknown = wanted - HTTP_METHODS
        if unknown:
            raise ValueError(f"route {path!r}: unknown HTTP method(s) {sorted(unknown)}")
        self.methods = frozenset(wanted)
        self.name = options.get("name") or getattr(endpoint, "__name__", None) or path
        self.status_code = options.get("status_code")
        self.tags = tuple(options.get("tags", ()))
        self.summary = options.get("summary")
        self.description = options.get("description")
        self.include_in_schema = options.get("include_in_schema", True)
        self.deprecated = options.get("deprecated", False)
        self.response_model = options.get("response_model")
        self.responses = dict(options.get("responses") or {})
        self.dependencies = tuple(options.get("dependencies", ()))
        self.middleware = tuple(options.get("middleware", ()))
        self.opts: dict[str, Any] = dict(options.get("opts") or {})
        """What the route declares for plugins; plugins may read and add keys."""

    def options(self) -> RouteOptions:
        """This route's options, to declare a copy of it."""
        return RouteOptions(
            name=self.name,
            status_code=self.status_code,
            tags=self.tags,
            summary=self.summary,
            description=self.description,
            include_in_schema=self.include_in_schema,
            deprecated=self.deprecated,
            response_model=self.response_model,
            responses=self.responses,
            dependencies=self.dependencies,
            middleware=self.middleware,
            opts=self.opts,
        )

    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(s.name for s in self.segments if isinstance(s, PathParam))

    @property
    def params(self) -> tuple[PathParam, ...]:
        return tuple(s for s in self.segments if isinstance(s, PathParam))

    @property
    def shape(self) -> str:
        """The path with parameter names erased: two routes of one shape match the same URLs."""
        return "/" + "/".join(
            s if isinstance(s, str) else "{:" + s.converter.name + "}" for s in self.segments
        )

    def describe(self) -> str:
        methods = ",".join(sorted(self.methods))
        return f"{methods} {self.path} (handler {_describe(self.endpoint)})"

    def match(self, path: str) -> dict[str, Any] | None:
        """Slow, standalone match of one route (for tests and tools, not the request path)."""
        parts = path[1:].split("/") if path.startswith("/") else None
        if parts is None:
            return None
        values: dict[str, Any] = {}
        for index, segment in enumerate(self.segments):
            if isinstance(segment, PathParam) and segment.converter.catch_all:
                values[segment.name] = "/".join(parts[index:])
                return values
            if index >= len(parts):
                return None
            if isinstance(segment, str):
                if parts[index] != segment:
                    return None
                continue
            value = segment.converter.convert(parts[index])
            if value is NO_MATCH:
                return None
            values[segment.name] = value
        return values if len(parts) == len(self.segments) else None

    def url_path_for(self, **params: Any) -> str:
        return build_path(self.segments, params, self.name)

    def with_prefix(
        self,
        prefix: str,
        name_prefix: str,
        tags: Sequence[str],
        dependencies: Sequence[Depends] = (),
        opts: Mapping[str, Any] | None = None,
        middleware: Sequence[Callable[[Any], Any]] = (),
    ) -> Route:
        """A copy of this route as seen from an enclosing router."""
        if not prefix + self.path:
            raise ValueError(
                f"route path '' (handler {_describe(self.endpoint)}) only works in a router "
                "with a prefix, where it stands for the prefix itself; use '/' here"
            )
        options = self.options()
        options["name"] = f"{name_prefix}{self.name}"
        options["tags"] = (*tags, *(t for t in self.tags if t not in tags))
        options["dependencies"] = (*dependencies, *self.dependencies)
        options["middleware"] = (*middleware, *self.middleware)
        options["opts"] = {**(opts or {}), **self.opts}
        return Route(prefix + self.path, self.endpoint, methods=self.methods, **options)

    def __repr__(self) -> str:
        return f"<Route {self.describe()}>"


class WebSocketOptions(TypedDict, total=False):
    """Options of `@app.websocket(path, **options)`."""

    name: str | None
    dependencies: Sequence[Depends]
    receives: Any
    """The type each incoming message is validated as (`ws.messages()`, AsyncAPI)."""
    sends: Any
    """The type of outgoing messages, for the AsyncAPI document."""
    on_invalid: str
    """"error" (answer an error frame, default) or "close" (close with 1007)."""
    max_message_size: int
    summary: str | None
    description: str | None
    tags: Sequence[str]
    include_in_schema: bool
    opts: Mapping[str, Any]
    """Metadata for plugins, as on HTTP routes."""


class WebSocketRoute(Route):
    """A WebSocket endpoint: matched like a route, served by a handler taking a WebSocket."""

    def __init__(
        self, path: str, endpoint: Callable[..., Any], **options: Unpack[WebSocketOptions]
    ) -> None:
        check_options(options, WebSocketOptions, f"websocket {path!r}")
        super().__init__(
            path,
            endpoint,
            opts=options.get("opts") or {},
            name=options.get("name"),
            dependencies=options.get("dependencies", ()),
            summary=options.get("summary"),
            description=options.get("description"),
            tags=options.get("tags", ()),
            include_in_schema=options.get("include_in_schema", True),
        )
        self.methods = frozenset({"WEBSOCKET"})
        self.receives = options.get("receives")
        self.sends = options.get("sends")
        on_invalid = options.get("on_invalid", "error")
        if on_invalid not in ("error", "close"):
            raise ValueError(f"websocket {path!r}: on_invalid must be 'error' or 'close'")
        self.on_invalid = on_invalid
        self.max_message_size = options.get("max_message_size", 1024 * 1024)

    def ws_options(self) -> WebSocketOptions:
        return WebSocketOptions(
            name=self.name,
            dependencies=self.dependencies,
            receives=self.receives,
            sends=self.sends,
            on_invalid=self.on_invalid,
            max_message_size=self.max_message_size,
            summary=self.summary,
            description=self.description,
            tags=self.tags,
            include_in_schema=self.include_in_schema,
            opts=self.opts,
        )

    def with_prefix(
        self,
        prefix: str,
        name_prefix: str,
        tags: Sequence[str],
        dependencies: Sequence[Depends] = (),
        opts: Mapping[str, Any] | None = None,
        middleware: Sequence[Callable[[Any], Any]] = (),  # HTTP only: not for WebSockets
    ) -> WebSocketRoute:
        options = self.ws_options()
        options["opts"] = {**(opts or {}), **self.opts}
        options["name"] = f"{name_prefix}{self.name}"
        options["tags"] = (*tags, *(t for t in self.tags if t not in tags))
        options["dependencies"] = (*dependencies, *self.dependencies)
        return WebSocketRoute(prefix + self.path, self.endpoint, **options)


class Mount:
    """An ASGI app served under a path prefix; it sees `root_path` grow by the prefix."""

    def __init__(
        self,
        path: str,
        app: ASGIApp,
        *,
        name: str | None = None,
        dependencies: Sequence[Depends] = (),
    ) -> None:
        if not path.startswith("/") or path.endswith("/") or "{" in path:
            raise ValueError(
                f"mount path {path!r} must start with '/', not end with '/', and have no parameters"
            )
        self.path = path
        self.app = app
        self.name = name
        self.dependencies = tuple(dependencies)
        """The enclosing routers' and app's dependencies: they guard the mount too."""
        self.segments: tuple[Segment, ...] = (
            *parse_path(path),
            PathParam("path", CONVERTERS["path"]),
        )

    def url_path_for(self, **params: Any) -> str:
        params.setdefault("path", "")
        return build_path(self.segments, params, self.name or self.path)

    def with_prefix(
        self, prefix: str, name_prefix: str, dependencies: Sequence[Depends] = ()
    ) -> Mount:
        name = f"{name_prefix}{self.name}" if self.name else None
        dependencies = (*dependencies, *self.dependencies)
        return Mount(prefix + self.path, self.app, name=name, dependencies=dependencies)

    def __repr__(self) -> str:
        return f"<Mount {self.path} {self.app!r}>"


class Router:
    """A group of routes with a shared prefix, tags and lifespan, included into an app."""

    def __init__(
        self,
        prefix: str = "",
        *,
        tags: Sequence[str] = (),
        name: str | None = None,
        lifespan: Lifespan | None = None,
        dependencies: Sequence[Depends] = (),
        opts: Mapping[str, Any] | None = None,
        middleware: Sequence[Callable[[Any], Any]] = (),
    ) -> None:
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"router prefix {prefix!r} must start with '/' and not end with '/'")
        self.prefix = prefix
        self.dependencies = tuple(dependencies)
        self.middleware = tuple(middleware)
        """ASGI middleware around this router's routes only (its mounts keep their own)."""
        self.opts: dict[str, Any] = dict(opts or {})
        """Plugin metadata every route of this router carries (a route's own wins)."""
        self.tags = tuple(tags)
        self.name = name
        self.lifespan = lifespan
        self.routes: list[Route] = []
        self.mounts: list[Mount] = []
        self.children: list[tuple[Router, str]] = []
        self.startup_hooks: list[Callable[[], Any]] = []
        self.shutdown_hooks: list[Callable[[], Any]] = []
        self._frozen_by: str | None = None

    # -- registration ---------------------------------------------------------------------

    def _check_open(self, what: str) -> None:
        if self._frozen_by is not None:
            raise RuntimeError(
                f"cannot {what}: {self._frozen_by} has already started; "
                "declare routes, mounts and hooks before serving"
            )

    def add_route(
        self,
        path: str,
        endpoint: Callable[..., Any],
        *,
        methods: Iterable[str] | None = None,
        **options: Unpack[RouteOptions],
    ) -> Route:
        """Register `endpoint` for `path` and `methods` (default GET)."""
        self._check_open(f"add route {path!r}")
        route = Route(path, endpoint, methods=methods, **options)
        self.routes.append(route)
        return route

    def add_view(self, path: str, view: type[Any], **options: Unpack[RouteOptions]) -> None:
        """Serve a class-based view (`brace.core.views.View`) at `path`: one route per method
        it defines; the GET route is named after the class (others `Class.verb`)."""
        from .views import endpoints_of

        declared: dict[str, Any] = dict(options)
        own: Sequence[Depends] = declared.pop("dependencies", ())
        guards = (*getattr(view, "dependencies", ()), *own)
        base = declared.pop("name", None) or view.__name__
        for method, endpoint in endpoints_of(view):
            declared["name"] = base if method == "GET" else f"{base}.{method.lower()}"
            declared["dependencies"] = guards
            self.add_route(path, endpoint, methods=[method], **declared)

    def route(
        self, path: str, *, methods: Iterable[str] | None = None, **options: Unpack[RouteOptions]
    ) -> Callable[[F], F]:
        """Register the decorated function for `path` and `methods` (default GET)."""

        def decorator(fn: F) -> F:
            self.add_route(path, fn, methods=methods, **options)
            return fn

        return decorator

    def get(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for GET (and automatic HEAD) requests to `path`."""
        return self.route(path, methods=("GET",), **options)

    def post(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for POST requests to `path`."""
        return self.route(path, methods=("POST",), **options)

    def put(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for PUT requests to `path`."""
        return self.route(path, methods=("PUT",), **options)

    def patch(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for PATCH requests to `path`."""
        return self.route(path, methods=("PATCH",), **options)

    def delete(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for DELETE requests to `path`."""
        return self.route(path, methods=("DELETE",), **options)

    def head(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for HEAD requests to `path`."""
        return self.route(path, methods=("HEAD",), **options)

    def options(self, path: str, **options: Unpack[RouteOptions]) -> Callable[[F], F]:
        """Register the decorated function for OPTIONS requests to `path`."""
        return self.route(path, methods=("OPTIONS",), **options)

    def websocket(self, path: str, **options: Unpack[WebSocketOptions]) -> Callable[[F], F]:
        """Serve WebSocket connections to `path` with the decorated `async def` handler."""

        def decorator(fn: F) -> F:
            self._check_open(f"add websocket route {path!r}")
            self.routes.append(WebSocketRoute(path, fn, **options))
            return fn

        return decorator

    def include(self, router: Router, *, prefix: str = "") -> None:
        """Serve another router's routes here, under its prefix (and `prefix`, if given)."""
        self._check_open("include a router")
        if router is self:
            raise ValueError("a router cannot include itself")
        if prefix and (not prefix.startswith("/") or prefix.endswith("/")):
            raise ValueError(f"include prefix {prefix!r} must start with '/' and not end with '/'")
        self.children.append((router, prefix))

    def mount(self, path: str, app: ASGIApp, *, name: str | None = None) -> None:
        """Serve any ASGI app (another brace App, static files...) under `path`."""
        self._check_open(f"mount at {path!r}")
        self.mounts.append(Mount(path, app, name=name))

    def on_startup(self, fn: F) -> F:
        """Run `fn` (sync or async) when the app starts, before the first request."""
        self._check_open("add a startup hook")
        self.startup_hooks.append(fn)
        return fn

    def on_shutdown(self, fn: F) -> F:
        """Run `fn` (sync or async) when the app shuts down."""
        self._check_open("add a shutdown hook")
        self.shutdown_hooks.append(fn)
        return fn

    # -- flattening -----------------------------------------------------------------------

    def flatten(
        self,
        prefix: str = "",
        name_prefix: str = "",
        tags: Sequence[str] = (),
        *,
        freeze: bool = True,
        dependencies: Sequence[Depends] = (),
        opts: Mapping[str, Any] | None = None,
        middleware: Sequence[Callable[[Any], Any]] = (),
    ) -> tuple[list[Route], list[Mount], list[Router]]:
        """Every route and mount with full paths, and the routers in lifespan order.

        With `freeze`, later changes to these routers raise: the app has compiled them.
        """
        if freeze:
            self._frozen_by = "the app"
        prefix = prefix + self.prefix
        tags = (*tags, *(t for t in self.tags if t not in tags))
        dependencies = (*dependencies, *self.dependencies)
        opts = {**(opts or {}), **self.opts}
        middleware = (*middleware, *self.middleware)
        routes = [
            r.with_prefix(prefix, name_prefix, tags, dependencies, opts, middleware)
            for r in self.routes
        ]
        mounts = [m.with_prefix(prefix, name_prefix, dependencies) for m in self.mounts]
        routers: list[Router] = [self]
        for child, extra in self.children:
            child_names = f"{name_prefix}{child.name}." if child.name else name_prefix
            r, m, rs = child.flatten(
                prefix + extra,
                child_names,
                tags,
                freeze=freeze,
                dependencies=dependencies,
                opts=opts,
                middleware=middleware,
            )
            routes += r
            mounts += m
            routers += rs
        return routes, mounts, routers
