"""`DB`: the request's database session as a handler parameter.

The session is committed as soon as the handler returns (before the response is sent, so a
failed commit is what the client sees), rolled back when the handler raises, and closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.markers import Depends
from ..core.requests import Request
from ._database import Database

__all__ = ["DB", "request_session"]


async def request_session(request: Request) -> AsyncIterator[AsyncSession]:
    """One session per request, from the app's Database."""
    database = Database.of(request.app)
    async with database.sessionmaker() as session:
        try:
            yield session
        except BaseException:
            await session.rollback()
            raise
        await session.commit()


DB = Annotated[AsyncSession, Depends(request_session, scope="handler")]
"""`async def handler(session: DB)`: a session committed when the handler succeeds."""
