"""The plugin protocol: how a battery (or your own code) attaches to an app without editing it.

A plugin is any object with one or more of these hooks; `app.install(plugin)` or
`App(plugins=[...])` adds it. `Plugin` is a base class with every hook doing nothing, for
plugins that only want one or two.

- `on_app_init(app)`: once, when the app is built (its first request, lifespan start-up or
  `app.compile()`), before the routes are frozen: add routes, middleware, lifespan hooks,
  exception handlers.
- `on_routes_compiled(app)`: once, right after the routes are compiled: read
  `app.operations` (every HTTP route with its parameters) and `app.all_routes`.
- `before_handler(connection, route)`: on every request and WebSocket handshake, after the
  route matched and before its handler runs (like Django's `process_view`). Raise an
  `HTTPError` to refuse: an HTTP request gets the error response, a WebSocket handshake is
  closed with code 1008. `route.opts` carries what the route declared for plugins.
- `wrap_plan(route, plan)`: once per HTTP route, when the routes are compiled; returns the
  plan (`async plan(scope, receive, send, path_values)`) unchanged, or one that runs around
  it: a cache that answers without the handler, a counter. Routes it returns unchanged cost
  nothing per request. A wrapper may raise `HTTPError` before calling `plan` to refuse.
  Wrappers nest in install order: the plugin installed last runs first (outermost).
- `wrap_asgi(app)`: once, when the middleware stack is built; returns the ASGI app that
  wraps the whole stack (access logs and tracing sit outermost).

A middleware can check requests after routing too, the way a session middleware guards
every app it wraps (mounted ones included): it appends `hook(connection, route)` to the
request's `scope[brace.core.scope.BEFORE_HANDLER]` tuple, and the brace app that finally
routes the request calls it after its own plugins' hooks.
"""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from .connection import HTTPConnection
from .routing import Route
from .types import ASGIApp

if TYPE_CHECKING:
    from .app import App
    from .handlers import Plan

__all__ = [
    "BeforeHandler",
    "InitPlugin",
    "Plugin",
    "RoutesCompiledPlugin",
    "WrapPlanPlugin",
    "WrapPlugin",
    "hooks_of",
]


@runtime_checkable
class InitPlugin(Protocol):
    def on_app_init(self, app: App) -> None:
        """Add routes, middleware, lifespan hooks or exception handlers to `app`."""


@runtime_checkable
class RoutesCompiledPlugin(Protocol):
    def on_routes_compiled(self, app: App) -> None:
        """Read the compiled routes (`app.operations`, `app.all_routes`)."""


@runtime_checkable
class BeforeHandler(Protocol):
    def before_handler(self, connection: HTTPConnection, route: Route) -> Awaitable[None]:
        """Check a matched request before its handler runs; raise HTTPError to refuse."""


@runtime_checkable
class WrapPlugin(Protocol):
    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        """The ASGI app wrapping the whole middleware stack."""


@runtime_checkable
class WrapPlanPlugin(Protocol):
    def wrap_plan(self, route: Route, plan: Plan) -> Plan:
        """The plan that serves `route`: `plan` itself, or one running around it."""


class Plugin:
    """A base for plugins: every hook does nothing until overridden."""

    def on_app_init(self, app: App) -> None:
        """Called once when the app is built, before its routes are frozen."""

    def on_routes_compiled(self, app: App) -> None:
        """Called once after the routes are compiled."""

    async def before_handler(self, connection: HTTPConnection, route: Route) -> None:
        """Called after routing, before the handler; raise HTTPError to refuse."""

    def wrap_plan(self, route: Route, plan: Plan) -> Plan:
        """Wrap one HTTP route's plan (returns it unchanged here)."""
        return plan

    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        """Wrap the whole middleware stack (returns it unchanged here)."""
        return app


_HOOKS = ("on_app_init", "on_routes_compiled", "before_handler", "wrap_plan", "wrap_asgi")


def hooks_of(plugin: object) -> set[str]:
    """The hooks `plugin` really implements: a `Plugin` subclass's inherited no-ops do not
    count, so a plugin that only logs never costs a call per request."""
    found: set[str] = set()
    for name in _HOOKS:
        method = getattr(type(plugin), name, None)
        if method is not None and method is not getattr(Plugin, name):
            found.add(name)
    return found
