"""Health probes: `/healthz` says the process serves, `/readyz` says it can do its work.

    app.health(checks={"database": database_check(db), "cache": redis_check(REDIS_URL)})

Liveness never touches a dependency (a restart would not fix a database outage); readiness
runs every check concurrently, each with a timeout, and answers 503 naming the ones that
failed, or while the app shuts down so that load balancers stop sending it work first.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from .core.plugins import Plugin
from .core.responses import JSONResponse

if TYPE_CHECKING:
    from .core.app import App
    from .db import Database

__all__ = ["Check", "Health", "database_check", "install_health", "redis_check", "run_checks"]

logger = logging.getLogger("brace.health")

Check = Callable[[], Any]
"""A zero-argument callable, sync or async; it fails by raising or by returning False."""

_NO_STORE = {"cache-control": "no-store"}


class _DatabaseCheck:
    """`SELECT 1` through a brace.db Database (the app's own when none is given)."""

    def __init__(self, database: Database | None) -> None:
        self.database = database
        self.app: App | None = None

    async def __call__(self) -> None:
        from sqlalchemy import text

        database = self.database
        if database is None:
            from .db import Database

            if self.app is None:
                raise RuntimeError("database_check() without a Database needs app.health()")
            database = Database.of(self.app)
        async with database.engine.connect() as connection:
            await connection.execute(text("SELECT 1"))


def database_check(database: Database | None = None) -> Check:
    """A check that runs `SELECT 1` on `database` (default: the app's Database)."""
    return _DatabaseCheck(database)


def redis_check(target: Any) -> Check:
    """A check that PINGs Redis: `target` is a URL ("redis://host:6379/0") or a
    redis.asyncio client. A URL opens a connection per probe, closed right after."""

    async def ping_redis() -> None:
        if not isinstance(target, str):
            await target.ping()
            return
        try:
            import redis.asyncio as redis
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise RuntimeError('redis_check needs redis-py: pip install "brace[redis]"') from exc
        client = redis.from_url(target)
        try:
            await client.ping()
        finally:
            await client.aclose()

    return ping_redis


def _is_async(check: Check) -> bool:
    # An instance with an `async def __call__` (like database_check's) counts as async too.
    return inspect.iscoroutinefunction(check) or inspect.iscoroutinefunction(type(check).__call__)


async def _run_one(check: Check, timeout: float) -> dict[str, Any]:
    start = time.perf_counter()
    try:
        if _is_async(check):
            result = await asyncio.wait_for(check(), timeout)
        else:
            # A plain function may block (a socket, a file): it runs in a thread.
            result = await asyncio.wait_for(asyncio.to_thread(check), timeout)
            if inspect.isawaitable(result):
                result = await asyncio.wait_for(_awaited(result), timeout)
    except TimeoutError:
        return {"status": "fail", "error": f"timed out after {timeout:g}s"}
    except Exception as exc:
        # The reason goes to the log; the probe answer names only the kind of failure, since
        # health URLs are often reachable by more people than the logs are.
        logger.warning("health check failed: %s: %s", type(exc).__name__, exc)
        return {"status": "fail", "error": type(exc).__name__}
    duration = round((time.perf_counter() - start) * 1000, 3)
    if result is False:
        return {"status": "fail", "error": "returned False", "duration_ms": duration}
    return {"status": "ok", "duration_ms": duration}


async def _awaited(result: Awaitable[Any]) -> Any:
    return await result


async def run_checks(checks: Mapping[str, Check], timeout: float = 5.0) -> dict[str, Any]:
    """Run every check at once; `{"status": "ok"|"fail", "checks": {name: {...}}}`."""
    names = list(checks)
    results = await asyncio.gather(*(_run_one(checks[name], timeout) for name in names))
    report = dict(zip(names, results, strict=True))
    ok = all(result["status"] == "ok" for result in results)
    return {"status": "ok" if ok else "fail", "checks": report}


def install_health(
    app: App,
    checks: Mapping[str, Check] | None = None,
    *,
    liveness: str | None = "/healthz",
    readiness: str | None = "/readyz",
    timeout: float = 5.0,
) -> None:
    """Add the probe routes to `app` (what `app.health(...)` does); hidden from OpenAPI.

    With `checks=None`, readiness pings the app's brace.db Database if it has one."""
    if timeout <= 0:
        raise ValueError("app.health(): timeout must be positive")
    chosen: dict[str, Check] | None = dict(checks) if checks is not None else None
    for name, check in (chosen or {}).items():
        if not callable(check):
            raise TypeError(f"app.health(): check {name!r} is not callable")
        if isinstance(check, _DatabaseCheck) and check.database is None:
            check.app = app

    def current_checks() -> dict[str, Check]:
        if chosen is not None:
            return chosen
        # Decided on the first probe: the Database may be created after app.health().
        database = app.extensions.get("brace.db")
        return {"database": database_check(database)} if database is not None else {}

    if liveness is not None:

        async def healthz() -> JSONResponse:
            return JSONResponse({"status": "ok"}, headers=_NO_STORE)

        app.add_route(liveness, healthz, name="brace.healthz", include_in_schema=False)

    if readiness is not None:

        async def readyz() -> JSONResponse:
            if app.shutting_down:
                return JSONResponse({"status": "shutting down"}, 503, headers=_NO_STORE)
            report = await run_checks(current_checks(), timeout)
            status = 200 if report["status"] == "ok" else 503
            return JSONResponse(report, status, headers=_NO_STORE)

        app.add_route(readiness, readyz, name="brace.readyz", include_in_schema=False)


class Health(Plugin):
    """Probe routes as a plugin, for apps built on `brace.core.App` (`brace.App` has
    `app.health(...)`, which does the same at once)."""

    def __init__(
        self,
        checks: Mapping[str, Check] | None = None,
        *,
        liveness: str | None = "/healthz",
        readiness: str | None = "/readyz",
        timeout: float = 5.0,
    ) -> None:
        if timeout <= 0:
            raise ValueError("Health(): timeout must be positive")
        self.checks = checks
        self.liveness = liveness
        self.readiness = readiness
        self.timeout = timeout

    def on_app_init(self, app: App) -> None:
        install_health(
            app,
            self.checks,
            liveness=self.liveness,
            readiness=self.readiness,
            timeout=self.timeout,
        )
