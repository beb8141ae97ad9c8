"""Pagination: pages by limit/offset with a total, or by keyset cursor for big tables, with
RFC 8288 `Link` headers.

    @app.get("/items")
    async def list_items(session: DB, pages: Pagination) -> Page[Item]:
        return await pages.fetch(session, select(Item).order_by(Item.id))
"""

from __future__ import annotations

import base64
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.errors import HTTPError
from ..core.markers import Depends, Query
from ..core.requests import Request
from ..core.responses import Response

__all__ = ["CursorPage", "CursorPagination", "Page", "Pagination"]

T = TypeVar("T")
MAX_LIMIT = 100
MAX_OFFSET = 2**31 - 1
"""Past this, an offset is an attack or a bug: every database takes it, none needs it."""


class Page(msgspec.Struct, Generic[T]):
    """One page of a limit/offset listing."""

    items: list[T]
    total: int
    limit: int
    offset: int


class CursorPage(msgspec.Struct, Generic[T]):
    """One page of a keyset listing; pass `next_cursor` as `?after=` for the next one."""

    items: list[T]
    limit: int
    next_cursor: str | None = None


def _link(request: Request, rel: str, **params: Any) -> str:
    return f'<{request.url.include_query_params(**params)}>; rel="{rel}"'


class Paginator:
    """Limit/offset from the query string (`?limit=20&offset=40`), validated and documented."""

    def __init__(self, request: Request, response: Response, limit: int, offset: int) -> None:
        self.request = request
        self.response = response
        self.limit = limit
        self.offset = offset

    async def fetch(self, session: AsyncSession, statement: Select[Any]) -> Page[Any]:
        """Run `statement` (give it an ORDER BY: pages of an unordered query are arbitrary)
        for this page, count every row, and set `Link` and `X-Total-Count` headers."""
        counting = select(func.count()).select_from(statement.order_by(None).subquery())
        total = int(await session.scalar(counting) or 0)
        result = await session.execute(statement.limit(self.limit).offset(self.offset))
        rows = list(result.scalars().all())
        self._set_headers(total)
        return Page(items=rows, total=total, limit=self.limit, offset=self.offset)

    def _set_headers(self, total: int) -> None:
        limit, offset, request = self.limit, self.offset, self.request
        links = [_link(request, "first", limit=limit, offset=0)]
        if offset > 0:
            links.append(_link(request, "prev", limit=limit, offset=max(offset - limit, 0)))
        if offset + limit < total:
            links.append(_link(request, "next", limit=limit, offset=offset + limit))
        last = max((total - 1) // limit * limit, 0)
        links.append(_link(request, "last", limit=limit, offset=last))
        self.response.headers["link"] = ", ".join(links)
        self.response.headers["x-total-count"] = str(total)


def _paginator(
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Rows to skip")] = 0,
) -> Paginator:
    return Paginator(request, response, limit, offset)


Pagination = Annotated[Paginator, Depends(_paginator)]
"""A handler parameter reading `?limit=` (1-100, default 20) and `?offset=` (default 0)."""


def encode_cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(msgspec.json.encode(value)).rstrip(b"=").decode()


def decode_cursor(cursor: str, python_type: Any) -> Any:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        return msgspec.json.decode(raw, type=python_type, strict=False)
    except (ValueError, msgspec.DecodeError):
        raise HTTPError(400, "The `after` cursor is not one this API issued.") from None


class CursorPaginator:
    """Keyset pages (`?after=<cursor>&limit=20`): cost does not grow with the page number,
    and rows added meanwhile do not shift the pages."""

    def __init__(self, request: Request, response: Response, limit: int, after: str | None) -> None:
        self.request = request
        self.response = response
        self.limit = limit
        self.after = after

    async def fetch(
        self, session: AsyncSession, statement: Select[Any], key: Any
    ) -> CursorPage[Any]:
        """Rows of `statement` ordered by the unique column `key` (`Item.id`), after the
        cursor; sets a `Link: <...>; rel="next"` header when there is more."""
        column = key.expression if hasattr(key, "expression") else key
        statement = statement.order_by(None).order_by(key)
        if self.after is not None:
            statement = statement.where(key > decode_cursor(self.after, _python_type(column)))
        result = await session.execute(statement.limit(self.limit + 1))
        rows = list(result.scalars().all())
        cursor = None
        if len(rows) > self.limit:
            rows = rows[: self.limit]
            cursor = encode_cursor(getattr(rows[-1], key.key))
            self.response.headers["link"] = _link(
                self.request, "next", limit=self.limit, after=cursor
            )
        return CursorPage(items=rows, limit=self.limit, next_cursor=cursor)


def _python_type(column: Any) -> Any:
    try:
        return column.type.python_type
    except NotImplementedError:
        return Any


def _cursor_paginator(
    request: Request,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="Rows per page")] = 20,
    after: Annotated[
        str | None, Query(max_length=200, description="The `next_cursor` of the previous page")
    ] = None,
) -> CursorPaginator:
    return CursorPaginator(request, response, limit, after)


CursorPagination = Annotated[CursorPaginator, Depends(_cursor_paginator)]
"""A handler parameter reading `?after=` (a cursor from the previous page) and `?limit=`."""
