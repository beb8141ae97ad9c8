"""Tests that leave the database as they found it: every session of the app joins one outer
transaction, rolled back when the test ends, on SQLite and PostgreSQL alike.

    @pytest.fixture
    def client():
        with TestClient(app) as client, transactional(client, db):
            yield client

Handlers commit as usual (their commits become savepoints), so the code under test runs
unchanged; nothing reaches the database for good.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncConnection, async_sessionmaker

from ._database import Database

if TYPE_CHECKING:
    from ..core.testing import TestClient

__all__ = ["rolled_back", "transactional"]


@asynccontextmanager
async def rolled_back(database: Database) -> AsyncIterator[AsyncConnection]:
    """Within this block every session from `database` (the `DB` parameter, `db.session()`)
    runs inside one transaction that is rolled back at the end. Use it from async tests
    (AsyncTestClient); `transactional` is the same for TestClient."""
    connection = await database.engine.connect()
    restore = await _let_sqlite_savepoint(connection) if database.dialect == "sqlite" else None
    outer = await connection.begin()
    saved = database.sessionmaker
    database.sessionmaker = async_sessionmaker(
        bind=connection, expire_on_commit=False, join_transaction_mode="create_savepoint"
    )
    try:
        yield connection
    finally:
        database.sessionmaker = saved
        await outer.rollback()
        if restore is not None:
            await restore()
        await connection.close()


@contextmanager
def transactional(client: TestClient, database: Database) -> Iterator[AsyncConnection]:
    """`rolled_back` for the synchronous TestClient: set up on the app's own event loop."""
    manager = rolled_back(database)
    connection = client.run(manager.__aenter__())
    try:
        yield connection
    finally:
        client.run(manager.__aexit__(None, None, None))


async def _let_sqlite_savepoint(connection: AsyncConnection) -> Callable[[], Awaitable[None]]:
    """The sqlite3 module opens and commits transactions on its own, which breaks SAVEPOINT:
    take over for this connection (no implicit BEGIN from the driver, an explicit one from
    SQLAlchemy). Returns the coroutine function that gives the connection back its usual
    behaviour."""
    sync_connection = connection.sync_connection
    assert sync_connection is not None
    # The driver's own thread owns the sqlite3 object: change it through SQLAlchemy's adapter,
    # inside run_sync where the adapter may wait for that thread.
    previous = await connection.run_sync(_swap_isolation_level, None)

    def begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN")

    event.listen(sync_connection, "begin", begin)

    async def restore() -> None:
        event.remove(sync_connection, "begin", begin)
        await connection.run_sync(_swap_isolation_level, previous)

    return restore


def _swap_isolation_level(sync_connection: Any, level: str | None) -> str | None:
    adapter = sync_connection.connection.dbapi_connection
    previous: str | None = adapter.isolation_level
    adapter.isolation_level = level
    return previous
