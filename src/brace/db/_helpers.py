"""Everyday queries: fetch one or answer 404, test for existence, insert many rows at once."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import Select, exists, insert, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.errors import HTTPError
from ._database import is_bad_argument

__all__ = ["bulk_insert", "exists_where", "get_or_404"]

T = TypeVar("T")


async def get_or_404(session: AsyncSession, model: type[T], key: Any) -> T:
    """The row with primary key `key`, or a 404 naming the model (the key is not echoed)."""
    try:
        found = await session.get(model, key)
    except (TypeError, ValueError, OverflowError):
        found = None  # a key of the wrong shape cannot match any row
    except DBAPIError as exc:
        if not is_bad_argument(exc):
            raise
        found = None  # out of the column's range: no such row either
    if found is None:
        raise HTTPError(404, f"No such {model.__name__.lower()}.")
    return found


async def exists_where(session: AsyncSession, model_or_select: Any, **filters: Any) -> bool:
    """Whether any row matches: `await exists_where(session, User, email=email)`, or pass a
    `select(...)` with its own WHERE clause."""
    if isinstance(model_or_select, Select):
        statement = model_or_select
    else:
        statement = select(model_or_select).filter_by(**filters)
    result = await session.execute(select(exists(statement)))
    return bool(result.scalar())


async def bulk_insert(
    session: AsyncSession, model: type[Any], rows: Iterable[Mapping[str, Any]]
) -> int:
    """Insert many rows in one executemany; returns how many. Defaults apply, ORM events and
    relationships do not (use `session.add_all` for those)."""
    batch = [dict(row) for row in rows]
    if not batch:
        return 0
    await session.execute(insert(model), batch)
    return len(batch)
