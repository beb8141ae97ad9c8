"""brace.db: SQLAlchemy 2 (async) made part of the app.

    from brace.db import DB, Database, Model, get_or_404

    db = Database("sqlite+aiosqlite:///./app.db", app=app)   # or DATABASE_URL

    class Item(Model):
        name: Mapped[str]

    @app.get("/items/{id:int}")
    async def show(id: int, session: DB) -> Item:
        return await get_or_404(session, Item, id)

Needs the `db` extra (`pip install "brace[db]"`; `brace[postgres]` adds asyncpg).
"""

from __future__ import annotations

try:
    import sqlalchemy  # noqa: F401
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('brace.db needs SQLAlchemy: pip install "brace[db]"') from exc

from ._database import DEFAULT_URL, Database, DatabaseUnavailable
from ._helpers import bulk_insert, exists_where, get_or_404
from ._models import Model, Timestamps, UUIDPrimaryKey
from ._pagination import (
    CursorPage,
    CursorPagination,
    CursorPaginator,
    Page,
    Pagination,
    Paginator,
)
from ._session import DB, request_session
from ._sync import SyncDB, SyncSession
from ._types import UTCDateTime, utcnow

__all__ = [
    "DB",
    "DEFAULT_URL",
    "CursorPage",
    "CursorPagination",
    "CursorPaginator",
    "Database",
    "DatabaseUnavailable",
    "Model",
    "Page",
    "Pagination",
    "Paginator",
    "SyncDB",
    "SyncSession",
    "Timestamps",
    "UTCDateTime",
    "UUIDPrimaryKey",
    "bulk_insert",
    "exists_where",
    "get_or_404",
    "request_session",
    "utcnow",
]
