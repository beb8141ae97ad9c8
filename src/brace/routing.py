"""Compatibility path: `brace.routing` is `brace.core.routing` (see docs/architecture.md)."""

from .core.matcher import RouteConflict as RouteConflict
from .core.params.extract import HandlerError as HandlerError
from .core.routing import (
    Mount as Mount,
)
from .core.routing import (
    PathParam as PathParam,
)
from .core.routing import (
    Route as Route,
)
from .core.routing import (
    RouteOptions as RouteOptions,
)
from .core.routing import (
    Router as Router,
)
from .core.routing import (
    parse_path as parse_path,
)

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
