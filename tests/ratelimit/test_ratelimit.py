"""Rate limits: per route, per router, shared scopes and the app-wide default; exactly the limit
passes under 200 concurrent requests (memory and Redis); 429 problem documents with
Retry-After and the RateLimit headers; keys; exemptions; OpenAPI."""

from __future__ import annotations

import asyncio
import secrets
from typing import Any

import httpx
import pytest

from brace import App, Router
from brace.core.connection import HTTPConnection
from brace.ratelimit import RateLimiter, rate_limit, rate_limit_exempt
from brace.testing import AsyncTestClient, TestClient


def make_app(
    storage: str = "memory://", default: str | None = None, headers_on_success: bool = False
) -> App:
    app = App()
    RateLimiter(app, storage=storage, default=default, headers_on_success=headers_on_success)

    @app.get("/limited", opts={"rate_limit": "50/minute"})
    async def limited() -> str:
        return "ok"

    @app.get("/two", opts={"rate_limit": "3/second;5/minute"})
    async def two() -> str:
        return "ok"

    @app.post("/by-key")
    @rate_limit("2/minute", key=lambda c: c.headers.get("x-api-key", "anonymous"))
    async def by_key() -> str:
        return "ok"

    api = Router(prefix="/api", opts={"rate_limit": "4/minute", "rate_limit_scope": "api"})

    @api.get("/a")
    async def a() -> str:
        return "a"

    @api.get("/b")
    async def b() -> str:
        return "b"

    app.include(api)

    @app.get("/free")
    async def free() -> str:
        return "free"

    @app.get("/healthz")
    @rate_limit_exempt
    async def health() -> str:
        return "up"

    return app


async def burst(app: App, path: str, count: int) -> list[int]:
    async with AsyncTestClient(app) as client:

        async def one() -> int:
            response: httpx.Response = await client.get(path)
            return response.status_code

        return list(await asyncio.gather(*(one() for _ in range(count))))


def test_exactly_the_limit_passes_under_concurrency() -> None:
    statuses = asyncio.run(burst(make_app(), "/limited", 200))
    assert statuses.count(200) == 50 and statuses.count(429) == 150


@pytest.mark.redis
@pytest.mark.usefixtures("need_redis")
def test_exactly_the_limit_passes_on_redis() -> None:
    app = make_app(storage="redis://127.0.0.1:6379")
    path = f"/limited?run={secrets.token_hex(4)}"  # the key is the client: clear it first
    asyncio.run(_clear_redis())
    statuses = asyncio.run(burst(app, path, 200))
    assert statuses.count(200) == 50 and statuses.count(429) == 150


async def _clear_redis() -> None:
    import redis.asyncio as aioredis

    client = aioredis.from_url("redis://127.0.0.1:6379")
    keys = [key async for key in client.scan_iter("LIMITS*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


def test_429_answers_and_headers() -> None:
    with TestClient(make_app()) as client:
        assert "ratelimit" not in client.get("/two").headers  # allowed: no headers by default
        refused = [client.get("/two") for _ in range(3)][-1]
        assert refused.status_code == 429
        assert refused.headers["ratelimit-policy"] == '"3-per-1s";q=3;w=1, "5-per-60s";q=5;w=60'
        assert refused.headers["ratelimit"].startswith('"3-per-1s";r=0;t=')
    with TestClient(make_app(headers_on_success=True)) as client:
        first = client.get("/two")
        assert first.status_code == 200
        assert first.headers["ratelimit-policy"] == '"3-per-1s";q=3;w=1, "5-per-60s";q=5;w=60'
        assert first.headers["ratelimit"].startswith('"3-per-1s";r=2;t=')
        statuses = [client.get("/two").status_code for _ in range(6)]
        assert 429 in statuses
        refused = client.get("/two")
        assert refused.status_code == 429
        assert refused.headers["content-type"] == "application/problem+json"
        assert int(refused.headers["retry-after"]) >= 1
        assert refused.json()["title"] == "Too Many Requests"
        assert "ratelimit" in refused.headers and "ratelimit-policy" in refused.headers
        assert client.get("/free").status_code == 200  # no limit, no headers
        assert "ratelimit" not in client.get("/free").headers


def test_keys_scopes_exemptions_and_the_default() -> None:
    with TestClient(make_app(default="8/minute")) as client:
        for _ in range(2):
            assert client.post("/by-key", headers={"x-api-key": "k1"}).status_code == 200
        assert client.post("/by-key", headers={"x-api-key": "k1"}).status_code == 429
        assert client.post("/by-key", headers={"x-api-key": "k2"}).status_code == 200
        hostile = {"x-api-key": "<script>'; DROP TABLE --" + "x" * 5000}
        assert client.post("/by-key", headers=hostile).status_code == 200  # just another key
        # /api/a and /api/b share one budget of 4.
        answers = [client.get(p).status_code for p in ("/api/a", "/api/b") * 3]
        assert answers.count(200) == 4 and answers[-1] == 429
        # The app-wide default: one budget of 8 over the routes without their own limit.
        assert [client.get("/free").status_code for _ in range(9)].count(429) == 1
        assert all(client.get("/healthz").status_code == 200 for _ in range(20))


def test_limits_are_in_the_openapi_document() -> None:
    with TestClient(make_app()) as client:
        document = client.get("/openapi.json").json()
    operation = document["paths"]["/two"]["get"]
    assert operation["x-rate-limit"] == ["3 per 1 second", "5 per 1 minute"]
    assert "429" in operation["responses"]
    assert "x-rate-limit" not in document["paths"]["/free"]["get"]


def test_bad_declarations_fail_at_start_up() -> None:
    with pytest.raises(ValueError):
        rate_limit("ten per minute")
    app = App()
    RateLimiter(app)

    @app.get("/x", opts={"rate_limit": "lots"})
    async def x() -> str:
        return "x"

    with pytest.raises(ValueError):
        app.compile()
    with pytest.raises(ValueError, match="unknown strategy"):
        RateLimiter(strategy="token-bucket")
    with pytest.raises(ValueError, match="storage"):
        RateLimiter(storage="memcached://nowhere")


def test_the_client_address_key_groups_ipv6() -> None:
    from brace.ratelimit import client_address

    def connection(host: str) -> HTTPConnection:
        scope: dict[str, Any] = {"type": "http", "client": (host, 1234), "headers": []}
        return HTTPConnection(scope)

    assert client_address(connection("2001:db8::1")) == client_address(connection("2001:db8::2"))
    assert client_address(connection("10.0.0.1")) == "10.0.0.1"


def test_an_async_key_function() -> None:
    async def tenant(connection: HTTPConnection) -> str:
        await asyncio.sleep(0)
        return connection.headers.get("x-tenant", "none")

    app = App()
    RateLimiter(app, key=tenant)

    @app.get("/t", opts={"rate_limit": "1/minute"})
    async def t() -> str:
        return "ok"

    with TestClient(app) as client:
        assert client.get("/t", headers={"x-tenant": "a"}).status_code == 200
        assert client.get("/t", headers={"x-tenant": "a"}).status_code == 429
        assert client.get("/t", headers={"x-tenant": "b"}).status_code == 200
