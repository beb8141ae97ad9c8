"""Health probes: liveness, readiness with checks and timeouts, 503 while shutting down,
database and Redis pings, and the probes kept out of the OpenAPI document."""

import asyncio
import os
import socket
import time
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

import pytest

from brace import App
from brace.health import database_check, redis_check, run_checks
from brace.testing import TestClient
from support_servers import free_port

REDIS_URL = "redis://127.0.0.1:6379/15"


def test_liveness_and_readiness_without_checks() -> None:
    app = App()
    app.health()
    with TestClient(app) as client:
        live = client.get("/healthz")
        assert live.status_code == 200 and live.json() == {"status": "ok"}
        assert live.headers["cache-control"] == "no-store"
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json() == {"status": "ok", "checks": {}}
        assert client.head("/healthz").status_code == 200


def test_checks_pass_and_fail_with_a_report() -> None:
    calls: list[str] = []

    async def cache() -> None:
        calls.append("cache")

    def disk() -> bool:
        calls.append("disk")
        return True

    def queue() -> bool:
        return False

    async def search() -> None:
        raise ConnectionRefusedError("search at 10.0.0.5:9200 refused")

    app = App()
    app.health(checks={"cache": cache, "disk": disk})
    with TestClient(app) as client:
        ok = client.get("/readyz")
        assert ok.status_code == 200
        body = ok.json()
        assert body["status"] == "ok" and set(body["checks"]) == {"cache", "disk"}
        assert body["checks"]["cache"]["status"] == "ok"
        assert isinstance(body["checks"]["disk"]["duration_ms"], float)
        assert sorted(calls) == ["cache", "disk"]

    failing = App()
    failing.health(checks={"cache": cache, "queue": queue, "search": search})
    with TestClient(failing) as client:
        bad = client.get("/readyz")
        assert bad.status_code == 503
        checks = bad.json()["checks"]
        assert bad.json()["status"] == "fail"
        assert checks["cache"]["status"] == "ok"
        assert checks["queue"] == {
            "status": "fail",
            "error": "returned False",
            "duration_ms": checks["queue"]["duration_ms"],
        }
        # Only the kind of failure is published; the address stays in the log.
        assert checks["search"] == {"status": "fail", "error": "ConnectionRefusedError"}
        assert "10.0.0.5" not in bad.text


def test_each_check_has_a_timeout() -> None:
    async def slow() -> None:
        await asyncio.sleep(10)

    def slow_sync() -> None:
        time.sleep(0.5)

    app = App()
    app.health(checks={"slow": slow, "slow_sync": slow_sync}, timeout=0.05)
    with TestClient(app) as client:
        start = time.perf_counter()
        response = client.get("/readyz")
        assert time.perf_counter() - start < 0.45  # concurrent, bounded by the timeout
    assert response.status_code == 503
    assert response.json()["checks"]["slow"] == {"status": "fail", "error": "timed out after 0.05s"}
    assert response.json()["checks"]["slow_sync"]["error"] == "timed out after 0.05s"


def test_sync_check_returning_an_awaitable() -> None:
    async def ping() -> bool:
        return True

    assert asyncio.run(run_checks({"lambda": lambda: ping()}))["status"] == "ok"


def test_readiness_answers_503_once_shutdown_begins() -> None:
    app = App()
    app.health()
    seen: list[int] = []

    async def probe() -> None:
        messages: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: MutableMapping[str, Any]) -> None:
            messages.append(dict(message))

        for path in ("/readyz", "/healthz"):
            scope: dict[str, Any] = {
                "type": "http",
                "method": "GET",
                "path": path,
                "raw_path": path.encode(),
                "query_string": b"",
                "headers": [],
                "root_path": "",
            }
            await app(scope, receive, send)
        seen.extend(m["status"] for m in messages if m["type"] == "http.response.start")

    app.on_shutdown(probe)
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
        assert app.shutting_down is False
    assert seen == [503, 200]  # draining: not ready, but alive
    assert app.shutting_down is True
    with TestClient(app) as client:  # started again: ready again
        assert client.get("/readyz").status_code == 200


def test_probes_are_not_in_the_openapi_document() -> None:
    app = App()
    app.health()

    @app.get("/items")
    async def items() -> list[int]:
        return []

    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
    assert set(paths) == {"/items"}


def test_custom_paths_and_disabled_probes() -> None:
    app = App()
    app.health(liveness="/live", readiness=None)
    with TestClient(app) as client:
        assert client.get("/live").status_code == 200
        assert client.get("/readyz").status_code == 404
        assert client.get("/healthz").status_code == 404


def test_bad_arguments_fail_when_declared() -> None:
    app = App()
    with pytest.raises(ValueError, match="timeout must be positive"):
        app.health(timeout=0)
    with pytest.raises(TypeError, match="check 'x' is not callable"):
        app.health(checks={"x": 42})  # type: ignore[dict-item]


def test_health_after_start_fails_loudly() -> None:
    app = App()
    with TestClient(app):
        pass
    with pytest.raises(RuntimeError, match="has already started"):
        app.health()


# -- database ------------------------------------------------------------------------------


def test_database_check_pings_the_apps_database_by_default(tmp_path: Path) -> None:
    from brace.db import Database

    app = App()
    app.health()  # before the Database: found on the first probe
    Database(f"sqlite+aiosqlite:///{tmp_path / 'h.db'}", app=app)
    with TestClient(app) as client:
        body = client.get("/readyz").json()
    assert body["status"] == "ok" and body["checks"]["database"]["status"] == "ok"


def test_database_check_explicit_and_failing(tmp_path: Path) -> None:
    from brace.db import Database

    port = free_port()  # nothing listens there
    down = Database(
        f"postgresql+asyncpg://user:pw@127.0.0.1:{port}/x",
        check_on_startup=False,
        connect_timeout=1,
    )
    up = Database(f"sqlite+aiosqlite:///{tmp_path / 'ok.db'}")
    app = App()
    app.health(checks={"primary": database_check(up), "replica": database_check(down)})
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["primary"]["status"] == "ok" and checks["replica"]["status"] == "fail"
    assert "pw" not in response.text
    asyncio.run(down.dispose())
    asyncio.run(up.dispose())


def test_database_check_without_argument_uses_the_apps(tmp_path: Path) -> None:
    from brace.db import Database

    app = App()
    Database(f"sqlite+aiosqlite:///{tmp_path / 'a.db'}", app=app)
    app.health(checks={"db": database_check()})
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"]["db"]["status"] == "ok"


def test_database_check_needs_an_app_or_a_database() -> None:
    report = asyncio.run(run_checks({"db": database_check()}))
    assert report["checks"]["db"] == {"status": "fail", "error": "RuntimeError"}


def test_no_database_means_no_default_check() -> None:
    app = App()
    app.health()
    with TestClient(app) as client:
        assert client.get("/readyz").json()["checks"] == {}


# -- redis ---------------------------------------------------------------------------------


def test_redis_check_with_a_client_object() -> None:
    class FakeRedis:
        def __init__(self, up: bool) -> None:
            self.up = up

        async def ping(self) -> bool:
            if not self.up:
                raise ConnectionError("down")
            return True

    report = asyncio.run(
        run_checks({"up": redis_check(FakeRedis(True)), "down": redis_check(FakeRedis(False))})
    )
    assert report["checks"]["up"]["status"] == "ok"
    assert report["checks"]["down"] == {"status": "fail", "error": "ConnectionError"}


def test_redis_check_against_a_closed_port() -> None:
    report = asyncio.run(run_checks({"redis": redis_check(f"redis://127.0.0.1:{free_port()}/0")}))
    assert report["status"] == "fail" and report["checks"]["redis"]["status"] == "fail"


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.mark.redis
def test_redis_check_against_the_real_server() -> None:
    if not redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be running on 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
    app = App()
    app.health(checks={"redis": redis_check(REDIS_URL)})
    with TestClient(app) as client:
        response = client.get("/readyz")
    assert response.status_code == 200, response.text
    assert response.json()["checks"]["redis"]["status"] == "ok"


def test_health_as_a_plugin_on_a_core_app() -> None:
    from brace.core import App as CoreApp
    from brace.health import Health

    with pytest.raises(ValueError, match="timeout must be positive"):
        Health(timeout=0)
    app = CoreApp(plugins=[Health({"always": lambda: True}, liveness="/live")])
    with TestClient(app) as client:
        assert client.get("/live").json() == {"status": "ok"}
        ready = client.get("/readyz").json()
        assert ready["status"] == "ok" and "always" in ready["checks"]
