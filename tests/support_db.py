"""Database test support: tests run twice, on SQLite (a file per test) and on the real
PostgreSQL server. PostgreSQL is required under CI (CI=true); elsewhere its runs skip with the
reason when the server does not answer on 127.0.0.1:5432.

The `db_url` fixture is registered for the whole suite by tests/conftest.py.
"""

import asyncio
import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_URL = os.environ.get(
    "BRACE_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)


def postgres_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 5432), timeout=1):
            return True
    except OSError:
        return False


def require_postgres() -> None:
    if postgres_up():
        return
    if os.environ.get("CI") == "true":
        pytest.fail("PostgreSQL must be running on 127.0.0.1:5432 in CI")
    pytest.skip("PostgreSQL is not reachable on 127.0.0.1:5432")


def _server_url(database: str) -> str:
    return PG_URL.rsplit("/", 1)[0] + "/" + database


def _admin(statement: str) -> None:
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def run() -> None:
        engine = create_async_engine(PG_URL, isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as connection:
                await connection.execute(text(statement))
        finally:
            await engine.dispose()

    asyncio.run(run())


@contextmanager
def private_database(name: str) -> Iterator[str]:
    """A fresh PostgreSQL database for this test run (dropped after): two suites running at
    once (a developer's and CI's, say) never see each other's tables."""
    require_postgres()
    _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _admin(f"CREATE DATABASE {name}")
    try:
        yield _server_url(name)
    finally:
        _admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """The URL of this run's own PostgreSQL database."""
    with private_database(f"brace_test_{os.getpid()}") as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for each backend; tables are created by the app under test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        require_postgres()
        yield request.getfixturevalue("postgres_url")
