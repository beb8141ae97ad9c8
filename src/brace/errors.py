"""Compatibility path: `brace.errors` is `brace.core.errors`."""

from .core.errors import (
    ClientDisconnect,
    HTTPError,
    ProblemResponse,
    debug_page,
    error_page,
    problem,
    status_phrase,
    wants_html,
)

__all__ = [
    "ClientDisconnect",
    "HTTPError",
    "ProblemResponse",
    "debug_page",
    "error_page",
    "problem",
    "status_phrase",
    "wants_html",
]
