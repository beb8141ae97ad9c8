"""The database of an app: an async SQLAlchemy engine, its session factory, and how the app
starts, stops and answers when the database cannot be reached."""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from ..config import current_env
from ..core.errors import HTTPError
from ..core.requests import Request
from ._query_watch import QueryWatch

if TYPE_CHECKING:
    from ..core.app import App

__all__ = ["DEFAULT_URL", "Database", "DatabaseUnavailable"]

logger = logging.getLogger("brace.db")

DEFAULT_URL = "sqlite+aiosqlite:///./app.db"
_EXTENSION_KEY = "brace.db"


class DatabaseUnavailable(HTTPError):
    """The database did not answer in time (down, unreachable, or every connection busy)."""

    def __init__(self, detail: str) -> None:
        super().__init__(503, detail, {"Retry-After": "1"}, title="Service Unavailable")


class Database:
    """An engine and a session factory for one database URL.

    `Database(url, app=app)` (or `db.install(app)`) connects when the app starts, disposes
    of the pool when it stops, makes `brace.db.DB` sessions come from here, and turns
    "database unreachable" and "pool exhausted" into 503 answers instead of hangs or 500s.
    """

    def __init__(
        self,
        url: str | None = None,
        *,
        app: App | None = None,
        pool_size: int = 5,
        max_overflow: int = 10,
        pool_timeout: float = 10.0,
        connect_timeout: float = 5.0,
        pre_ping: bool = False,
        pool_recycle: float = 1800.0,
        check_on_startup: bool = True,
        echo: bool = False,
        repeated_query_limit: int | None = 10,
        **engine_options: Any,
    ) -> None:
        """`url` defaults to the DATABASE_URL environment variable, then to SQLite in
        ./app.db. `pool_timeout` bounds the wait for a free connection, `connect_timeout` the
        wait for a new one: past either, requests get 503. With `check_on_startup` the app
        refuses to start when the database does not answer; without it, it starts and
        answers 503 until the database is back. In debug, a request that runs one statement
        more than `repeated_query_limit` times logs an N+1 warning (None: never)."""
        self.check_on_startup = check_on_startup
        self.repeated_query_limit = repeated_query_limit
        self.url = url or os.environ.get("DATABASE_URL") or DEFAULT_URL
        parsed = make_url(self.url)
        self.dialect = parsed.get_backend_name()
        # No ping by default: with asyncpg it costs BEGIN, SELECT and ROLLBACK on every checkout.
        # A connection the server dropped fails its request with a 503 and is discarded;
        # recycling bounds how stale a pooled connection can get.
        options: dict[str, Any] = {"echo": echo, "pool_pre_ping": pre_ping}
        memory = self.dialect == "sqlite" and parsed.database in (None, "", ":memory:")
        if not memory:
            options.update(
                pool_size=pool_size,
                max_overflow=max_overflow,
                pool_timeout=pool_timeout,
                pool_recycle=pool_recycle,
            )
        if parsed.get_driver_name() == "asyncpg":
            options["connect_args"] = {"timeout": connect_timeout}
        elif self.dialect == "sqlite":
            options["connect_args"] = {"timeout": connect_timeout}
        # Bound values (an API secret in a duplicate insert, say) stay out of error messages
        # and logs in production.
        options["hide_parameters"] = current_env() == "prod"
        options.update(engine_options)
        self.engine: AsyncEngine = create_async_engine(self.url, **options)
        if self.dialect == "sqlite" and not memory:
            _use_wal(self.engine, connect_timeout)
        # Objects stay readable after commit: the response is rendered once the session is done.
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False)
        if app is not None:
            self.install(app)

    # -- the app ------------------------------------------------------------------------------

    def install(self, app: App) -> None:
        """Make this the app's database: start-up check, shutdown dispose, 503 on outages."""
        if _EXTENSION_KEY in app.extensions:
            raise RuntimeError("this app already has a Database")
        app.extensions[_EXTENSION_KEY] = self
        app.install(QueryWatch(self.repeated_query_limit))
        if self.check_on_startup:
            app.on_startup(self.connect)
        app.on_shutdown(self.dispose)
        outages: tuple[type[Exception], ...] = (
            sa_exc.OperationalError,
            sa_exc.InterfaceError,
            sa_exc.TimeoutError,
        )
        for kind in outages:
            app.exception_handlers.setdefault(kind, _unavailable)
        app.exception_handlers.setdefault(sa_exc.DataError, _bad_data)
        app.exception_handlers.setdefault(sa_exc.DBAPIError, _bad_argument_or_raise)
        app.exception_handlers.setdefault(sa_exc.IntegrityError, _conflict)
        for kind in (ConnectionError, TimeoutError, socket.gaierror):
            app.exception_handlers.setdefault(kind, _unreachable_or_raise)
        app.exception_handlers.setdefault(OverflowError, _overflow_or_raise)

    @staticmethod
    def of(app: App) -> Database:
        """The Database installed on `app`."""
        try:
            database: Database = app.extensions[_EXTENSION_KEY]
        except KeyError:
            raise RuntimeError(
                "this app has no database: create one with Database(url, app=app)"
            ) from None
        return database

    async def connect(self) -> None:
        """Open one connection to prove the database answers (called at start-up)."""
        try:
            async with self.engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
        except Exception as exc:
            raise RuntimeError(
                f"cannot connect to the database at {self.safe_url}: {type(exc).__name__}: {exc}"
            ) from exc

    async def dispose(self) -> None:
        await self.engine.dispose()

    @property
    def safe_url(self) -> str:
        """The URL with its password hidden, for logs and errors."""
        return make_url(self.url).render_as_string(hide_password=True)

    # -- sessions ---------------------------------------------------------------------------

    @asynccontextmanager
    async def session(self) -> AsyncIterator[AsyncSession]:
        """A session outside a request (tasks, scripts, tests): commit it yourself; it rolls
        back what was not committed when the block ends."""
        async with self.sessionmaker() as session:
            yield session

    async def create_all(self) -> None:
        """Create every table of brace.db.Model's metadata that does not exist yet (tests,
        prototypes; real projects use migrations)."""
        from ._models import Model

        async with self.engine.begin() as connection:
            await connection.run_sync(Model.metadata.create_all)

    async def drop_all(self) -> None:
        from ._models import Model

        async with self.engine.begin() as connection:
            await connection.run_sync(Model.metadata.drop_all)

    def __repr__(self) -> str:
        return f"Database({self.safe_url!r})"


async def _unavailable(request: Request, exc: Exception) -> None:
    if _is_locked(exc):
        logger.warning("database locked past its busy timeout: %s", exc)
        raise DatabaseUnavailable("The database is busy; try again in a moment.")
    if isinstance(exc, sa_exc.TimeoutError):
        logger.warning("database pool exhausted: %s", exc)
        raise DatabaseUnavailable("The database is busy; try again in a moment.")
    if isinstance(exc, sa_exc.DBAPIError) and not _is_outage(exc):
        raise exc  # a failed statement, not an outage: the default 500 (logged)
    logger.error("database unavailable: %s", exc)
    raise DatabaseUnavailable("The database is unavailable; try again in a moment.")


def _use_wal(engine: AsyncEngine, busy_timeout: float) -> None:
    """File databases: write-ahead logging (readers never block the writer) and a busy
    timeout (a writer waits its turn instead of failing at once)."""

    @event.listens_for(engine.sync_engine, "connect")
    def _pragmas(dbapi_connection: Any, connection_record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout * 1000)}")
        cursor.close()


def _is_locked(exc: Exception) -> bool:
    """SQLite's "database is locked": a writer waited its busy timeout out."""
    orig = getattr(exc, "orig", None)
    return orig is not None and "database is locked" in str(orig).lower()


def _is_outage(exc: sa_exc.DBAPIError) -> bool:
    if exc.connection_invalidated:
        return True
    if isinstance(exc, sa_exc.InterfaceError):
        return True
    message = str(exc.orig).lower() if exc.orig is not None else ""
    return any(
        word in message
        for word in ("connect", "connection", "closed", "terminat", "timeout", "shutdown")
    )


async def _unreachable_or_raise(request: Request, exc: Exception) -> None:
    # Drivers raise plain OSErrors (connection refused, unknown host) and TimeoutError while
    # connecting; the same errors from other code (an HTTP client) are not the database's.
    if _raised_by_driver(exc):
        logger.error("database unreachable: %s", exc)
        raise DatabaseUnavailable("The database is unavailable; try again in a moment.")
    raise exc


_DRIVER_MODULES = ("sqlalchemy", "asyncpg", "aiosqlite", "sqlite3", "psycopg")


def _raised_by_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        module = tb.tb_frame.f_globals.get("__name__", "")
        if module.startswith(_DRIVER_MODULES):
            return True
        tb = tb.tb_next
    return False


async def _overflow_or_raise(request: Request, exc: Exception) -> None:
    # sqlite3 raises a bare OverflowError for an integer past 64 bits, where PostgreSQL
    # answers "out of range" (a DataError): the same input's fault, the same 400.
    if _raised_by_driver(exc):
        await _bad_data(request, exc)
    raise exc


async def _bad_data(request: Request, exc: Exception) -> None:
    # Too long for the column, out of range, a NUL byte in text: the input's fault. The
    # database's own message stays in the log, never in the answer.
    logger.info("database refused a value: %s", exc)
    raise HTTPError(
        400, "A value does not fit the database (too long, out of range, or invalid characters)."
    )


async def _conflict(request: Request, exc: Exception) -> None:
    # A unique or foreign-key constraint said no: the request clashes with stored data.
    logger.info("database constraint refused a change: %s", exc)
    raise HTTPError(
        409, "The change conflicts with existing data (a duplicate, or a missing reference)."
    )


def is_bad_argument(exc: BaseException) -> bool:
    """A value the database (or its driver) cannot take: SQLSTATE class 22, "data exception"
    (an int out of range, a NUL byte in text), which some drivers report as a bare DBAPIError."""
    if not isinstance(exc, sa_exc.DBAPIError):
        return False
    return str(getattr(exc.orig, "sqlstate", "") or "").startswith("22")


async def _bad_argument_or_raise(request: Request, exc: Exception) -> None:
    if is_bad_argument(exc):
        await _bad_data(request, exc)
    if isinstance(exc, sa_exc.DBAPIError) and _is_outage(exc):
        # A pooled connection the server dropped (asyncpg reports it as a bare DBAPIError):
        # SQLAlchemy discards it, and the next request gets a fresh one.
        logger.error("database connection lost: %s", exc)
        raise DatabaseUnavailable("The database is unavailable; try again in a moment.")
    raise exc
