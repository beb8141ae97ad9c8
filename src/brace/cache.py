"""A cache for the app: in process memory (bounded, least recently used out first, a TTL per
entry) or in Redis for every worker, with tags and stampede protection.

    cache = Cache(app)                                  # or Cache(app, "redis://127.0.0.1:6379")

    await cache.set("greeting", {"text": "hi"}, ttl=60, tags=["greetings"])
    await cache.get("greeting")                         # {"text": "hi"}, or None once expired
    await cache.invalidate("greetings")                 # every entry tagged so

    @cache.cached(ttl=30, tags=["articles"])
    async def popular_articles(limit: int) -> list[dict[str, Any]]: ...

    @app.get("/feed", opts={"cache": 60})              # whole responses, per path and query
    async def feed() -> list[dict[str, Any]]: ...

Values are encoded with msgspec (MessagePack), so a cached value is a copy: mutating what
`get` returns never changes the cache, and memory and Redis behave alike. `cached` computes a
missing value once however many callers ask at the same time: in one process they wait for
the first caller; across workers on Redis a short lock lets one compute while the others wait
for its result.

Needs the `cache` extra (`pip install "brace[cache]"`: cachetools); Redis needs `redis`.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import msgspec

try:
    import cachetools
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('brace.cache needs cachetools: pip install "brace[cache]"') from exc

from .core.plugins import Plugin
from .core.routing import Route

if TYPE_CHECKING:
    from .core.app import App
    from .core.handlers import Plan

__all__ = ["CACHE", "CACHE_PRIVATE", "CACHE_TAGS", "CACHE_VARY", "ETAG", "Cache"]

CACHE = "cache"
"""Route option: cache whole GET responses for this many seconds (`opts={"cache": 60}`)."""
CACHE_VARY = "cache_vary"
"""Route option: request headers that make a different response (`["accept-language"]`)."""
CACHE_PRIVATE = "cache_private"
"""Route option: True to cache responses to requests with credentials too, per credential."""
ETAG = "etag"
"""Route option: True for a weak ETag on the route's answers and 304 on If-None-Match (the
handler runs; the body is not sent again). Routes with `cache` get it anyway."""
CACHE_TAGS = "cache_tags"
"""Route option: tags of the cached responses (`cache.invalidate("articles")` drops them)."""

T = TypeVar("T")
_encoder = msgspec.msgpack.Encoder()
_MISSING: Any = object()
LOCK_SECONDS = 10.0
"""How long a worker may hold the right to compute a missing value before others take over."""


class _Backend(Protocol):
    async def get(self, key: str) -> bytes | None: ...
    async def set(self, key: str, value: bytes, ttl: float | None, tags: Iterable[str]) -> None: ...
    async def delete(self, *keys: str) -> int: ...
    async def incr(self, key: str, amount: int, ttl: float | None) -> int: ...
    async def keys_tagged(self, tag: str) -> list[str]: ...
    async def forget_tag(self, tag: str) -> None: ...
    async def lock(self, key: str, token: str, seconds: float) -> bool: ...
    async def unlock(self, key: str, token: str) -> None: ...
    async def close(self) -> None: ...


class Cache(Plugin):
    """The app's cache. `url`: "memory://" (this process, the default) or a redis:// URL."""

    def __init__(
        self,
        app: App | None = None,
        url: str = "memory://",
        *,
        namespace: str = "brace",
        max_entries: int = 10_000,
        default_ttl: float | None = 300.0,
    ) -> None:
        """`max_entries` bounds the memory backend (the least recently used go first);
        `default_ttl`: seconds an entry lives when `set` gives none (None: until evicted)."""
        self.namespace = namespace
        self.default_ttl = default_ttl
        self._backend: _Backend = _backend_for(url, max_entries)
        self._inflight: dict[str, asyncio.Future[Any]] = {}
        if app is not None:
            app.install(self)

    def on_app_init(self, app: App) -> None:
        app.on_shutdown(self.close)

    def wrap_plan(self, route: Route, plan: Plan) -> Plan:
        """Routes with `opts={"cache": seconds}` answer GET and HEAD from the cache; routes
        with `opts={"etag": True}` get ETags and 304s."""
        ttl = route.opts.get(CACHE)
        if "GET" not in route.methods:
            return plan
        from ._response_cache import cached_plan, etag_plan

        if not ttl:
            return etag_plan(plan) if route.opts.get(ETAG) else plan

        return cached_plan(
            self,
            plan,
            ttl=float(ttl),
            vary=tuple(h.lower() for h in route.opts.get(CACHE_VARY, ())),
            private=bool(route.opts.get(CACHE_PRIVATE)),
            tags=tuple(route.opts.get(CACHE_TAGS, ())),
        )

    async def close(self) -> None:
        await self._backend.close()

    def _key(self, key: str) -> str:
        return f"{self.namespace}:{key}"

    # -- values ---------------------------------------------------------------------------

    async def get(self, key: str, default: Any = None, *, type: Any = Any) -> Any:
        """The value stored under `key`, or `default`; `type` decodes to a Struct or
        dataclass instead of plain dicts and lists."""
        raw = await self._backend.get(self._key(key))
        if raw is None:
            return default
        return msgspec.msgpack.decode(raw, type=type)

    async def set(
        self, key: str, value: Any, ttl: float | None = _MISSING, tags: Iterable[str] = ()
    ) -> None:
        """Store `value` (anything msgspec encodes) for `ttl` seconds, under `tags`."""
        lifetime = self.default_ttl if ttl is _MISSING else ttl
        if lifetime is not None and lifetime <= 0:
            raise ValueError("ttl must be positive (or None: until evicted)")
        tagged = [self._key(f"tag:{tag}") for tag in tags]
        await self._backend.set(self._key(key), _encoder.encode(value), lifetime, tagged)

    async def delete(self, key: str) -> bool:
        return await self._backend.delete(self._key(key)) > 0

    async def incr(self, key: str, amount: int = 1, ttl: float | None = None) -> int:
        """Add `amount` to the counter at `key` (created at 0, living `ttl` seconds from its
        creation) and return it; atomic across workers on Redis. Counters live apart from
        values: read one with `incr(key, 0)`."""
        return await self._backend.incr(self._key(f"count:{key}"), amount, ttl)

    async def invalidate(self, tag: str) -> int:
        """Delete every entry stored with `tag`; how many there were."""
        tag_key = self._key(f"tag:{tag}")
        keys = await self._backend.keys_tagged(tag_key)
        removed = await self._backend.delete(*keys) if keys else 0
        await self._backend.forget_tag(tag_key)
        return removed

    # -- computed values ----------------------------------------------------------------------

    async def get_or_compute(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        *,
        ttl: float | None = _MISSING,
        tags: Iterable[str] = (),
        type: Any = Any,
    ) -> T:
        """The cached value, or `compute()`'s, computed once however many ask at once."""
        found = await self.get(key, _MISSING, type=type)
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        waiting = self._inflight.get(key)
        if waiting is not None:  # another caller of this process computes it
            return await asyncio.shield(waiting)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        try:
            value = await self._compute_once(key, compute, ttl, tags, type)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # retrieved: no "never retrieved" warning when nobody waits
            raise
        else:
            future.set_result(value)
            return value
        finally:
            del self._inflight[key]

    async def _compute_once(
        self,
        key: str,
        compute: Callable[[], Awaitable[T]],
        ttl: float | None,
        tags: Iterable[str],
        type: Any,
    ) -> T:
        """Across workers: take the key's lock and compute, or wait for whoever holds it."""
        lock, token = self._key(f"lock:{key}"), secrets.token_hex(8)
        deadline = time.monotonic() + LOCK_SECONDS
        while not await self._backend.lock(lock, token, LOCK_SECONDS):
            await asyncio.sleep(0.02)
            found = await self.get(key, _MISSING, type=type)
            if found is not _MISSING:
                return found  # type: ignore[no-any-return]
            if time.monotonic() > deadline:
                break  # the holder died or is slow: compute rather than wait forever
        try:
            found = await self.get(key, _MISSING, type=type)  # computed while we waited?
            if found is not _MISSING:
                return found  # type: ignore[no-any-return]
            value = await compute()
            await self.set(key, value, ttl, tags)
            return value
        finally:
            await self._backend.unlock(lock, token)

    def cached(
        self,
        ttl: float | None = _MISSING,
        *,
        key: Callable[..., str] | None = None,
        tags: Iterable[str] = (),
    ) -> Callable[[Callable[..., Awaitable[T]]], Callable[..., Awaitable[T]]]:
        """Cache an async function's results, keyed by its arguments (or by `key(*args,
        **kwargs)`); a stampede of callers computes each missing result once."""
        tag_list = list(tags)

        def decorate(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
            prefix = f"fn:{fn.__module__}.{fn.__qualname__}"

            @functools.wraps(fn)
            async def wrapper(*args: Any, **kwargs: Any) -> T:
                name = key(*args, **kwargs) if key is not None else _arguments_key(args, kwargs)
                return await self.get_or_compute(
                    f"{prefix}:{name}", lambda: fn(*args, **kwargs), ttl=ttl, tags=tag_list
                )

            return wrapper

        return decorate


def _arguments_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """A short stable key for a call's arguments (anything msgspec can encode)."""
    encoded = _encoder.encode([args, sorted(kwargs.items())])
    return hashlib.sha256(encoded).hexdigest()[:32]


def _backend_for(url: str, max_entries: int) -> _Backend:
    if url in ("memory", "memory://"):
        return _MemoryBackend(max_entries)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return _RedisBackend(url)
    raise ValueError(f"unknown cache URL {url!r}: use 'memory://' or a redis:// URL")


class _MemoryBackend:
    """cachetools' LRUCache (least recently used out first), each entry with its own expiry,
    checked when it is read: measured, its TLRUCache costs 4.2 µs a lookup to LRUCache's 0.6,
    and an expired entry never read again is evicted by the LRU bound like any other."""

    def __init__(self, max_entries: int) -> None:
        self._entries: cachetools.LRUCache[str, tuple[bytes, float]] = cachetools.LRUCache(
            maxsize=max_entries
        )
        self._tags: dict[str, set[str]] = {}
        self._locks: dict[str, tuple[str, float]] = {}

    def _live(self, key: str) -> tuple[bytes, float] | None:
        found = self._entries.get(key)
        if found is not None and found[1] <= time.monotonic():
            self._entries.pop(key, None)  # expired
            return None
        return found

    async def get(self, key: str) -> bytes | None:
        found = self._live(key)
        return None if found is None else found[0]

    async def set(self, key: str, value: bytes, ttl: float | None, tags: Iterable[str]) -> None:
        expires = time.monotonic() + ttl if ttl is not None else float("inf")
        self._entries[key] = (value, expires)
        for tag in tags:
            self._tags.setdefault(tag, set()).add(key)

    async def delete(self, *keys: str) -> int:
        return sum(
            self._live(key) is not None and self._entries.pop(key, None) is not None for key in keys
        )

    async def incr(self, key: str, amount: int, ttl: float | None) -> int:
        found = self._live(key)
        if found is None:
            expires = time.monotonic() + ttl if ttl is not None else float("inf")
            total = amount
        else:
            total, expires = int(msgspec.msgpack.decode(found[0])) + amount, found[1]
        self._entries[key] = (_encoder.encode(total), expires)
        return total

    async def keys_tagged(self, tag: str) -> list[str]:
        return sorted(self._tags.get(tag, ()))

    async def forget_tag(self, tag: str) -> None:
        self._tags.pop(tag, None)

    async def lock(self, key: str, token: str, seconds: float) -> bool:
        holder = self._locks.get(key)
        if holder is not None and holder[1] > time.monotonic():
            return False
        self._locks[key] = (token, time.monotonic() + seconds)
        return True

    async def unlock(self, key: str, token: str) -> None:
        if self._locks.get(key, ("", 0.0))[0] == token:
            del self._locks[key]

    async def close(self) -> None:
        return None


_UNLOCK = (
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0"
)


class _RedisBackend:
    """redis-py's asyncio client: entries with PX expiries, tags as sets, locks with SET NX."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as aioredis

        self._pool = aioredis.BlockingConnectionPool.from_url(url, max_connections=50, timeout=5)
        self._redis = aioredis.Redis(connection_pool=self._pool)

    async def get(self, key: str) -> bytes | None:
        found = await self._redis.get(key)
        return found.encode() if isinstance(found, str) else found

    async def set(self, key: str, value: bytes, ttl: float | None, tags: Iterable[str]) -> None:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.set(key, value, px=int(ttl * 1000) if ttl is not None else None)
            for tag in tags:
                pipe.sadd(tag, key)
            await pipe.execute()

    async def delete(self, *keys: str) -> int:
        return int(await self._redis.delete(*keys)) if keys else 0

    async def incr(self, key: str, amount: int, ttl: float | None) -> int:
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.incrby(key, amount)
            if ttl is not None:
                pipe.pexpire(key, int(ttl * 1000), nx=True)  # from creation, not each increment
            total, *_ = await pipe.execute()
        return int(total)

    async def keys_tagged(self, tag: str) -> list[str]:
        members = await self._redis.smembers(tag)
        return sorted(m.decode() if isinstance(m, bytes) else str(m) for m in members)

    async def forget_tag(self, tag: str) -> None:
        await self._redis.delete(tag)

    async def lock(self, key: str, token: str, seconds: float) -> bool:
        return bool(await self._redis.set(key, token, nx=True, px=int(seconds * 1000)))

    async def unlock(self, key: str, token: str) -> None:
        await self._redis.eval(_UNLOCK, 1, key, token)  # only the holder's own lock

    async def close(self) -> None:
        await self._redis.aclose()
        await self._pool.disconnect()  # the client does not close a pool it was given
