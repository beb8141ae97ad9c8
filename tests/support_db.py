"""Database test support: tests run twice, on SQLite (a file per test) and on the real
PostgreSQL server. PostgreSQL is required under CI (CI=true); elsewhere its runs skip with the
reason when the server does not answer on 127.0.0.1:5432.

The `db_url` fixture is registered for the whole suite by tests/conftest.py.
"""

import os
import socket
from collections.abc import Iterator
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


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database URL for each backend; tables are created by the app under test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path / 'test.db'}"
    else:
        require_postgres()
        yield PG_URL
