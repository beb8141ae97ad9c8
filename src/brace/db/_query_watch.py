"""In debug, count each request's queries and warn about N+1 patterns.

A page that lists twenty posts and reads `post.author.name` in its template runs one query for
the posts and twenty more for the authors: it works, and it gets slower with every row. In
debug, brace counts every ORM statement a request runs, grouped by its SQL, and when one runs
more than `repeated_query_limit` times it logs a warning naming the template line or the code
that ran it, and the relationship to load up front with `selectinload`.
"""

from __future__ import annotations

import contextvars
import logging
import sys
from dataclasses import dataclass, field
from types import FrameType
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.orm import ORMExecuteState, Session

from ..core.plugins import Plugin
from ..core.types import ASGIApp, Receive, Scope, Send

if TYPE_CHECKING:
    from ..core.app import App

__all__ = ["QueryWatch"]

logger = logging.getLogger("brace.db")

_requests: contextvars.ContextVar[_RequestQueries | None] = contextvars.ContextVar(
    "brace_db_queries", default=None
)
# Frames of these packages are plumbing: the location reported is the first frame outside.
_PLUMBING = (
    "sqlalchemy",
    "brace.",
    "asyncio",
    "greenlet",
    "contextlib",
    "jinja2",
    "msgspec",
    "aiosqlite",
    "asyncpg",
    "concurrent",
    "threading",
)


@dataclass
class _Statement:
    count: int = 0
    where: str = ""
    relationship: str | None = None


@dataclass
class _RequestQueries:
    total: int = 0
    statements: dict[str, _Statement] = field(default_factory=dict)


class QueryWatch(Plugin):
    """Installed by `Database`: does nothing unless the app runs in debug."""

    def __init__(self, limit: int | None) -> None:
        self.limit = limit
        self._app: App | None = None

    def on_app_init(self, app: App) -> None:
        self._app = app

    def wrap_asgi(self, app: ASGIApp) -> ASGIApp:
        owner = self._app
        limit = self.limit
        if limit is None or owner is None or not owner.debug:
            return app  # production pays nothing: no wrapper, no ORM event listener
        _listen_once()

        async def watched(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            queries = _RequestQueries()
            token = _requests.set(queries)
            try:
                await app(scope, receive, send)
            finally:
                _requests.reset(token)
                _report(scope, queries, limit)

        return watched


def _report(scope: Scope, queries: _RequestQueries, limit: int) -> None:
    request = f"{scope.get('method', '')} {scope.get('path', '')}"
    if queries.total:
        logger.debug("%s ran %d queries", request, queries.total)
    for sql, seen in queries.statements.items():
        if seen.count <= limit:
            continue
        hint = (
            f"load {seen.relationship} with the query that reads these rows: "
            f".options(selectinload({seen.relationship}))"
            if seen.relationship
            else "fetch these rows in one query (an IN (...) list or a join)"
        )
        logger.warning(
            "N+1 queries in %s: the same statement ran %d times (%s); %s. Statement: %s",
            request,
            seen.count,
            seen.where or "location unknown",
            hint,
            " ".join(sql.split())[:300],
        )


_listening = False


def _listen_once() -> None:
    global _listening
    if not _listening:
        event.listen(Session, "do_orm_execute", _count)
        _listening = True


def _count(state: ORMExecuteState) -> None:
    queries = _requests.get()
    if queries is None:
        return
    queries.total += 1
    sql = str(state.statement)
    seen = queries.statements.get(sql)
    if seen is None:
        seen = queries.statements[sql] = _Statement(relationship=_relationship(state))
    seen.count += 1
    if seen.count == 2:  # a location is only worth finding for a statement that repeats
        seen.where = _location()


def _relationship(state: ORMExecuteState) -> str | None:
    if not state.is_relationship_load:
        return None
    path: Any = state.loader_strategy_path
    prop = path[-1] if path is not None and len(path) else None
    parent = getattr(getattr(prop, "parent", None), "class_", None)
    key = getattr(prop, "key", None)
    return f"{parent.__name__}.{key}" if parent is not None and key else None


def _location() -> str:
    """The template line, else the first frame of the app's own code, that ran the query:
    in this greenlet's stack first, then in the stack that awaited it."""
    frame: FrameType | None = sys._getframe(2)
    found = _first_own_frame(frame)
    if found is None:
        import greenlet  # type: ignore[import-untyped]

        parent = greenlet.getcurrent().parent
        found = _first_own_frame(parent.gr_frame if parent is not None else None)
    return found or ""


def _first_own_frame(frame: FrameType | None) -> str | None:
    while frame is not None:
        template = frame.f_globals.get("__jinja_template__")
        if template is not None:
            line = template.get_corresponding_lineno(frame.f_lineno)
            return f"template {template.name or template.filename} line {line}"
        module = frame.f_globals.get("__name__", "")
        if not module.startswith(_PLUMBING) and module != "brace":
            code = frame.f_code
            return f"{code.co_filename}:{frame.f_lineno} in {code.co_name}"
        frame = frame.f_back
    return None
