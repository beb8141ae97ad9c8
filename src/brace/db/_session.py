"""`DB`: the request's database session as a handler parameter.

The session is committed as soon as the handler returns (before the response is sent, so a
failed commit is what the client sees) and rolled back when the handler raises. It is closed
once the response has been sent: returned models and templates may still lazy-load.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.markers import Depends
from ..core.requests import Request
from ._database import Database

__all__ = ["DB", "request_session"]


async def _closing_after_response() -> AsyncIterator[list[AsyncSession]]:
    """Sessions to close once the response is out (a request-scoped dependency ends then)."""
    sessions: list[AsyncSession] = []
    try:
        yield sessions
    finally:
        for session in sessions:
            await session.close()


async def request_session(
    request: Request,
    closing: Annotated[list[AsyncSession], Depends(_closing_after_response)],
) -> AsyncIterator[AsyncSession]:
    """One session per request, from the app's Database."""
    session = Database.of(request.app).sessionmaker()
    closing.append(session)
    try:
        yield session
    except BaseException:
        await session.rollback()
        raise
    await session.commit()


DB = Annotated[AsyncSession, Depends(request_session, scope="handler")]
"""`async def handler(session: DB)`: a session committed when the handler succeeds."""
