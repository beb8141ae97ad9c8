"""The compiled route matcher: a dict for static paths and a segment tree for dynamic ones.

Pure logic with no I/O, so it is tested directly. Lookup cost grows with the number of
path segments, not with the number of routes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

from .converters import NO_MATCH, Converter
from .routing import Route, Segment

__all__ = ["NOT_FOUND", "Endpoint", "Match", "Matcher", "RouteConflict"]

EMPTY: tuple[Any, ...] = ()


class RouteConflict(ValueError):
    """Two routes would answer the same request; raised at start-up, naming both."""


class Match(NamedTuple):
    """What `Matcher.find` found: the target and path values on a full match; only the
    endpoint when the path matched but not the method (405); nothing at all for a 404."""

    target: Any
    values: Sequence[Any]
    endpoint: Endpoint | None


NOT_FOUND = Match(None, EMPTY, None)


class Endpoint:
    """Everything served at one path shape: the method → target table and the routes."""

    __slots__ = ("_wrong_method", "matches", "methods", "routes")

    def __init__(self) -> None:
        self.methods: dict[str, Any] = {}
        self.routes: dict[str, Route] = {}
        self.matches: dict[str, Match] = {}  # static paths: the result, made once
        self._wrong_method = Match(None, EMPTY, self)

    def route_for(self, method: str) -> Route:
        """The route answering `method` (automatic HEAD and OPTIONS: the route they stand in
        for)."""
        route = self.routes.get(method) or self.routes.get("GET")
        return route if route is not None else next(iter(self.routes.values()))

    def add_automatic(self, method: str, target: Any) -> None:
        """A target brace adds itself (HEAD for a GET, OPTIONS), with no route of its own."""
        self.methods[method] = target
        self.matches[method] = Match(target, EMPTY, self)

    def add(self, route: Route, target: Any, methods: Sequence[str]) -> None:
        for method in methods:
            existing = self.routes.get(method)
            if existing is not None:
                raise RouteConflict(
                    f"route {route.describe()} conflicts with {existing.describe()}: "
                    f"both answer {method} {route.shape}"
                )
            self.routes[method] = route
            self.methods[method] = target
            self.matches[method] = Match(target, EMPTY, self)

    @property
    def allow(self) -> list[str]:
        return sorted(self.methods)


class _Node:
    __slots__ = ("catch_all", "endpoint", "params", "static")

    def __init__(self) -> None:
        self.static: dict[str, _Node] = {}
        self.params: list[tuple[Converter, _Node]] = []
        self.catch_all: tuple[Converter, Endpoint] | None = None
        self.endpoint: Endpoint | None = None

    def child_for(self, converter: Converter) -> _Node:
        for conv, node in self.params:
            if conv is converter:
                return node
        node = _Node()
        self.params.append((converter, node))
        self.params.sort(key=lambda item: item[0].priority)
        return node


class Matcher:
    """Build with `add`, then `find(method, path)` on every request."""

    def __init__(self) -> None:
        self.static: dict[str, Endpoint] = {}
        self._root = _Node()
        self._has_dynamic = False

    def endpoint_for(self, segments: Sequence[Segment]) -> Endpoint:
        """The endpoint for a path shape, created on first use."""
        if all(isinstance(s, str) for s in segments):
            key = "/" + "/".join(segments)  # type: ignore[arg-type]
            endpoint = self.static.get(key)
            if endpoint is None:
                endpoint = self.static[key] = Endpoint()
            return endpoint
        self._has_dynamic = True
        node = self._root
        for segment in segments:
            if isinstance(segment, str):
                node = node.static.setdefault(segment, _Node())
            elif segment.converter.catch_all:
                if node.catch_all is None:
                    node.catch_all = (segment.converter, Endpoint())
                return node.catch_all[1]
            else:
                node = node.child_for(segment.converter)
        if node.endpoint is None:
            node.endpoint = Endpoint()
        return node.endpoint

    def add(self, route: Route, target: Any, methods: Sequence[str]) -> None:
        self.endpoint_for(route.segments).add(route, target, methods)

    def find(self, method: str, path: str) -> Match:
        """The target and path values for `method` and `path`; see `Match`."""
        endpoint = self.static.get(path)
        if endpoint is not None:
            found = endpoint.matches.get(method)
            if found is not None:
                return found  # made at start-up: a static route allocates nothing
        if not self._has_dynamic or path[:1] != "/":
            return NOT_FOUND if endpoint is None else endpoint._wrong_method
        values: list[Any] = []
        partial: list[Endpoint] = [endpoint] if endpoint is not None else []
        served = _search(self._root, path[1:].split("/"), 0, method, values, partial)
        if served is not None:
            return tuple.__new__(Match, (served.methods[method], values, served))
        return partial[0]._wrong_method if partial else NOT_FOUND

    def iter_endpoints(self) -> list[Endpoint]:
        out = list(self.static.values())
        stack = [self._root]
        while stack:
            node = stack.pop()
            if node.endpoint is not None:
                out.append(node.endpoint)
            if node.catch_all is not None:
                out.append(node.catch_all[1])
            stack.extend(node.static.values())
            stack.extend(n for _, n in node.params)
        return out


def _search(
    node: _Node,
    parts: list[str],
    index: int,
    method: str,
    values: list[Any],
    partial: list[Endpoint],
) -> Endpoint | None:
    """The endpoint serving `method` at `parts[index:]`, filling `values` on the way."""
    if index == len(parts):
        endpoint = node.endpoint
        if endpoint is None:
            return None
        if method not in endpoint.methods:
            partial.append(endpoint)
            return None
        return endpoint
    part = parts[index]
    child = node.static.get(part)
    if child is not None:
        found = _search(child, parts, index + 1, method, values, partial)
        if found is not None:
            return found
    for converter, child in node.params:
        value = converter.convert(part)
        if value is NO_MATCH:
            continue
        values.append(value)
        found = _search(child, parts, index + 1, method, values, partial)
        if found is not None:
            return found
        values.pop()
    if node.catch_all is not None:
        endpoint = node.catch_all[1]
        if method not in endpoint.methods:
            partial.append(endpoint)
            return None
        values.append("/".join(parts[index:]))
        return endpoint
    return None
