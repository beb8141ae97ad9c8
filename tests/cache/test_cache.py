"""brace.cache on memory and on the real Redis: values, TTLs, eviction, counters, tags, and a
stampede of 100 concurrent misses computing once (in one process, and across two workers)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from brace import App
from brace.cache import Cache
from brace.testing import TestClient
from support_redis import redis_up

BACKENDS = ["memory://", pytest.param("redis://127.0.0.1:6379", marks=pytest.mark.redis)]


@pytest.fixture(params=BACKENDS)
def cache(request: pytest.FixtureRequest) -> Iterator[Cache]:
    url = request.param
    if url.startswith("redis") and not redis_up():
        request.getfixturevalue("need_redis")
    # Each test its own namespace on the shared Redis: no test sees another's keys.
    yield Cache(url=url, namespace=f"test-{secrets.token_hex(4)}", max_entries=3)


def run(cache: Cache, work: Any) -> None:
    """Run a test's coroutine, then close the cache in the same event loop (its Redis
    connections belong to that loop)."""

    async def main() -> None:
        try:
            await work
        finally:
            await cache.close()

    asyncio.run(main())


class Point(msgspec.Struct):
    x: int
    y: int


def test_values_round_trip_as_copies(cache: Cache) -> None:
    async def main() -> None:
        assert await cache.get("missing") is None
        assert await cache.get("missing", "fallback") == "fallback"
        value = {"text": "<script>'; DROP TABLE --", "n": [1, 2.5, None], "ok": True}
        await cache.set("k", value)
        got = await cache.get("k")
        assert got == value
        got["n"].append(99)  # a copy: the cache is unchanged
        assert await cache.get("k") == value
        await cache.set("p", Point(1, 2))
        assert await cache.get("p", type=Point) == Point(1, 2)
        assert await cache.delete("k") and not await cache.delete("k")
        with pytest.raises(ValueError):
            await cache.set("bad", 1, ttl=0)
        with pytest.raises(TypeError):
            await cache.set("bad", object())

    run(cache, main())


def test_ttl_expires_entries(cache: Cache) -> None:
    async def main() -> None:
        await cache.set("short", "x", ttl=0.05)
        await cache.set("long", "y", ttl=60)
        await asyncio.sleep(0.2)
        assert await cache.get("short") is None
        assert await cache.get("long") == "y"

    run(cache, main())


def test_counters_are_atomic_and_apart_from_values(cache: Cache) -> None:
    async def main() -> None:
        totals = await asyncio.gather(*(cache.incr("hits") for _ in range(100)))
        assert sorted(totals) == list(range(1, 101))
        assert await cache.incr("hits", 0) == 100
        assert await cache.get("hits") is None  # counters do not shadow values

    run(cache, main())


def test_tags_invalidate_together(cache: Cache) -> None:
    async def main() -> None:
        await cache.set("a", 1, tags=["article:42"])
        await cache.set("b", 2, tags=["article:42", "home"])
        await cache.set("c", 3, tags=["home"])
        assert await cache.invalidate("article:42") == 2
        assert (await cache.get("a"), await cache.get("b"), await cache.get("c")) == (None, None, 3)
        assert await cache.invalidate("article:42") == 0

    run(cache, main())


def test_a_stampede_computes_once(cache: Cache) -> None:
    calls = 0

    @cache.cached(ttl=30)
    async def expensive(n: int) -> dict[str, int]:
        nonlocal calls
        calls += 1
        await asyncio.sleep(0.05)
        return {"n": n * 2}

    async def main() -> None:
        answers = await asyncio.gather(*(expensive(21) for _ in range(100)))
        assert answers == [{"n": 42}] * 100
        assert await expensive(21) == {"n": 42}
        assert await expensive(1) == {"n": 2}

    run(cache, main())
    assert calls == 2  # once for 21, once for 1


def test_a_failed_computation_is_not_cached(cache: Cache) -> None:
    attempts = 0

    @cache.cached(ttl=30, key=lambda name: name)
    async def flaky(name: str) -> str:
        nonlocal attempts
        attempts += 1
        if attempts == 1:
            raise RuntimeError("down")
        return name.upper()

    async def main() -> None:
        with pytest.raises(RuntimeError):
            await flaky("x")
        assert await flaky("x") == "X"

    run(cache, main())


def test_memory_is_bounded_least_recently_used_first() -> None:
    cache = Cache(max_entries=3)

    async def main() -> None:
        for key in "abc":
            await cache.set(key, key)
        assert await cache.get("a") == "a"  # a is now the most recently used
        await cache.set("d", "d")
        assert await cache.get("b") is None
        assert [await cache.get(k) for k in "acd"] == ["a", "c", "d"]

    run(cache, main())


def test_bad_urls_and_the_app_plugin() -> None:
    with pytest.raises(ValueError, match="unknown cache URL"):
        Cache(url="memcached://nowhere")
    app = App()
    cache = Cache(app)

    @app.get("/count")
    async def count() -> dict[str, Any]:
        return {"n": await cache.incr("visits")}

    with TestClient(app) as client:
        assert [client.get("/count").json()["n"] for _ in range(3)] == [1, 2, 3]


def test_counters_expire_from_their_creation(cache: Cache) -> None:
    async def main() -> None:
        assert await cache.incr("window", ttl=0.2) == 1
        assert await cache.incr("window", ttl=0.2) == 2  # a later increment keeps the expiry
        await asyncio.sleep(0.35)
        assert await cache.incr("window", ttl=0.2) == 1

    run(cache, main())


def test_a_computation_whose_lock_holder_vanished_goes_ahead(
    cache: Cache, monkeypatch: pytest.MonkeyPatch
) -> None:
    import brace.cache as cache_module

    monkeypatch.setattr(cache_module, "LOCK_SECONDS", 0.2)

    async def main() -> None:
        # Another worker took the lock and died before storing anything.
        assert await cache._backend.lock(cache._key("lock:report"), "dead-worker", 60)

        async def compute() -> str:
            return "fresh"

        assert await cache.get_or_compute("report", compute) == "fresh"

    run(cache, main())
