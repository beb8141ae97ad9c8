"""Compatibility path: `brace.routing` is `brace.core.routing`."""

from .core.matcher import RouteConflict
from .core.params.model import HandlerError
from .core.routing import Mount, PathParam, Route, RouteOptions, Router, parse_path

__all__ = [
    "HandlerError",
    "Mount",
    "PathParam",
    "Route",
    "RouteConflict",
    "RouteOptions",
    "Router",
    "parse_path",
]
