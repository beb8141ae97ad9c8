"""`SyncDB`: the request's session for plain `def` handlers, which run in a worker thread.

Each call is handed to the event loop, where the request's AsyncSession does the work, and the
thread waits for the result: the same session, the same commit-before-response, no second
engine or driver.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Annotated, Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from ..core.markers import Depends
from ._session import request_session

__all__ = ["SyncDB", "SyncSession"]

T = TypeVar("T")


class SyncSession:
    """Blocking twins of the AsyncSession methods handlers use; call them from a `def`
    handler (a worker thread), never from `async def` code."""

    def __init__(self, session: AsyncSession, loop: asyncio.AbstractEventLoop) -> None:
        self.async_session = session
        self._loop = loop
        self._loop_thread = threading.get_ident()

    def _wait(self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        if threading.get_ident() == self._loop_thread:
            raise RuntimeError(
                "SyncDB blocks its thread: use it in `def` handlers; `async def` code takes DB"
            )

        async def run() -> T:
            return await method(*args, **kwargs)

        return asyncio.run_coroutine_threadsafe(run(), self._loop).result()

    def add(self, instance: Any) -> None:
        self.async_session.add(instance)

    def add_all(self, instances: Iterable[Any]) -> None:
        self.async_session.add_all(instances)

    def delete(self, instance: Any) -> None:
        self._wait(self.async_session.delete, instance)

    def execute(self, statement: Any, params: Any = None, **options: Any) -> Any:
        return self._wait(self.async_session.execute, statement, params, **options)

    def scalar(self, statement: Any, params: Any = None, **options: Any) -> Any:
        return self._wait(self.async_session.scalar, statement, params, **options)

    def scalars(self, statement: Any, params: Any = None, **options: Any) -> Any:
        return self._wait(self.async_session.scalars, statement, params, **options)

    def get(self, entity: type[T], ident: Any, **options: Any) -> T | None:
        return self._wait(self.async_session.get, entity, ident, **options)

    def flush(self) -> None:
        self._wait(self.async_session.flush)

    def commit(self) -> None:
        self._wait(self.async_session.commit)

    def rollback(self) -> None:
        self._wait(self.async_session.rollback)

    def refresh(self, instance: Any, attribute_names: Iterable[str] | None = None) -> None:
        self._wait(self.async_session.refresh, instance, attribute_names)


async def sync_request_session(
    session: Annotated[AsyncSession, Depends(request_session, scope="handler")],
) -> SyncSession:
    return SyncSession(session, asyncio.get_running_loop())


SyncDB = Annotated[SyncSession, Depends(sync_request_session, scope="handler")]
"""`def handler(session: SyncDB)`: the request's session for plain (threaded) handlers."""
