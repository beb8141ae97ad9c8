"""Rate limits per route, per router and app-wide, in memory or shared through Redis.

    limiter = RateLimiter(app, storage="redis://127.0.0.1:6379", default="1000/hour")

    @app.get("/search", opts={"rate_limit": "10/second;100/minute"})
    async def search(q: str) -> list[str]: ...

    @app.post("/login")
    @rate_limit("5/minute", key=lambda connection: connection.headers.get("x-api-key", ""))
    async def login(...): ...

A limit is checked after routing and before the handler (the plugin protocol's `wrap_plan`:
routes without a limit keep their plan and pay nothing), so a refused request costs no body
read and no database work: it gets a 429 problem document with `Retry-After` and the IETF
`RateLimit-Policy` / `RateLimit` headers (on allowed responses too with
`headers_on_success=True`). Limits apply to HTTP routes. Each route counts on its own
unless its limits name a shared scope (`opts={"rate_limit_scope": "api"}`); the app-wide
`default` is one budget for the whole app. Counting is done by the `limits` library (fixed
window, moving window or sliding-window counter), atomically, in process memory or in Redis
for every worker at once.

Needs the `ratelimit` extra (`pip install "brace[ratelimit]"`; Redis storage needs `redis`).
"""

from __future__ import annotations

import inspect
import math
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

try:
    from limits import RateLimitItem, parse_many
    from limits.aio import strategies
    from limits.aio.storage import MemoryStorage, RedisStorage, Storage
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise ImportError('brace.ratelimit needs limits: pip install "brace[ratelimit]"') from exc

from ._clients import client_group
from .core.connection import HTTPConnection
from .core.errors import HTTPError
from .core.plugins import Plugin
from .core.routing import OPENAPI_EXTRA, Route
from .core.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .core.app import App
    from .core.handlers import Plan

__all__ = [
    "RATE_LIMIT",
    "RATE_LIMIT_EXEMPT",
    "RATE_LIMIT_SCOPE",
    "RateLimiter",
    "client_address",
    "rate_limit",
    "rate_limit_exempt",
]

RATE_LIMIT = "rate_limit"
"""Route option: the limits of a route (`"10/second;100/minute"`); a Router's applies to all."""
RATE_LIMIT_SCOPE = "rate_limit_scope"
"""Route option: a name whose routes share one budget (default: each route its own)."""
RATE_LIMIT_EXEMPT = "rate_limit_exempt"
"""Route option: True to leave a route out of every limit, the app-wide default included."""

KeyFunction = Callable[[HTTPConnection], "str | Awaitable[str]"]
F = TypeVar("F", bound=Callable[..., Any])
_STRATEGIES: dict[str, type[strategies.RateLimiter]] = {
    "fixed-window": strategies.FixedWindowRateLimiter,
    "moving-window": strategies.MovingWindowRateLimiter,
    "sliding-window": strategies.SlidingWindowCounterRateLimiter,
}


def client_address(connection: HTTPConnection) -> str:
    """The default key: the client's address (IPv6 grouped by /64). Behind a proxy, run with
    `brace run --trusted-proxies` so that this is the client's, not the proxy's."""
    client = connection.scope.get("client")
    return client_group(client[0]) if client else "unknown"


def rate_limit(limits: str, *, key: KeyFunction | None = None, scope: str | None = None) -> Any:
    """Decorate a handler with its limits (the same as `opts={"rate_limit": ...}`), optionally
    counted by its own `key` or in a shared `scope`."""
    parse_many(limits)  # a typo fails here, at import, not at the first request

    def mark(handler: F) -> F:
        handler.__brace_rate_limit__ = (limits, key, scope)  # type: ignore[attr-defined]
        return handler

    return mark


def rate_limit_exempt(handler: F) -> F:
    """Leave a handler out of every limit (health checks, webhooks with their own guard)."""
    handler.__brace_rate_limit_exempt__ = True  # type: ignore[attr-defined]
    return handler


@dataclass(frozen=True, slots=True)
class _Policy:
    items: tuple[RateLimitItem, ...]
    scope: str
    key: KeyFunction
    header: str  # RateLimit-Policy, ready to send


class RateLimiter(Plugin):
    """The app's rate limiting: storage, strategy, the default limit and key, the headers."""

    def __init__(
        self,
        app: App | None = None,
        *,
        storage: str | Storage = "memory://",
        strategy: str = "moving-window",
        default: str | None = None,
        key: KeyFunction = client_address,
        headers_on_success: bool = False,
    ) -> None:
        """`storage`: "memory://" (this process) or a "redis://" URL (every worker);
        `strategy`: "moving-window" (exact), "sliding-window" (approximate, cheaper on Redis)
        or "fixed-window" (cheapest, bursts at window edges); `default`: one budget for the
        whole app per key; `key`: what a client is (its address by default);
        `headers_on_success`: the RateLimit headers on allowed responses too (a second
        storage read per limit; refused requests always carry them)."""
        if strategy not in _STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}: use one of {sorted(_STRATEGIES)}")
        self._pool: Any = None
        self.storage = self._storage(storage) if isinstance(storage, str) else storage
        self.limiter = _STRATEGIES[strategy](self.storage)
        self.default = tuple(parse_many(default)) if default else ()
        self.key = key
        self.headers_on_success = headers_on_success
        if app is not None:
            app.install(self)

    async def close(self) -> None:
        """Close the Redis connections (run at app shutdown)."""
        if self._pool is not None:
            await self._pool.disconnect()

    def _storage(self, url: str) -> Storage:
        if url in ("memory", "memory://"):
            return MemoryStorage()
        if url.startswith(("redis://", "rediss://", "unix://")):
            import redis.asyncio as aioredis

            # A blocking pool: a burst of requests waits for a connection instead of failing.
            self._pool = aioredis.BlockingConnectionPool.from_url(
                url, max_connections=50, timeout=5
            )
            options: dict[str, Any] = {"connection_pool": self._pool}  # passed to redis-py
            return RedisStorage(f"async+{url}", implementation="redispy", **options)
        raise ValueError(f"unknown rate-limit storage {url!r}: use 'memory://' or a redis:// URL")

    # -- plugin hooks -----------------------------------------------------------------------

    def on_app_init(self, app: App) -> None:
        app.on_shutdown(self.close)

    def wrap_plan(self, route: Route, plan: Plan) -> Plan:
        """Limited routes count each request before their handler; the others keep their
        plan and pay nothing."""
        policy = self._policy_for(route)
        if policy is None:
            return plan
        shown = "; ".join(str(item) for item in policy.items)
        route.responses.setdefault(
            429, f"Too many requests ({shown} per client): retry after Retry-After seconds"
        )
        extra = dict(route.opts.get(OPENAPI_EXTRA, {}))
        extra["x-rate-limit"] = [str(item) for item in policy.items]
        route.opts[OPENAPI_EXTRA] = extra

        async def limited(scope: Scope, receive: Receive, send: Send, values: Any) -> None:
            found = policy.key(HTTPConnection(scope))
            key = str(await found if inspect.isawaitable(found) else found)
            await self._count(policy, key)  # raises the 429
            if self.headers_on_success:
                send = _with_headers(send, await self._headers(policy, key))
            await plan(scope, receive, send, values)

        return limited

    async def _count(self, policy: _Policy, key: str) -> None:
        for item in policy.items:
            if not await self.limiter.hit(item, policy.scope, key):
                reset = await self._reset_in(item, policy.scope, key)
                raise HTTPError(
                    429,
                    f"Too many requests: the limit is {item}. Retry in {reset} s.",
                    {
                        "Retry-After": str(reset),
                        "RateLimit-Policy": policy.header,
                        "RateLimit": _remaining(item, 0, reset),
                    },
                    title="Too Many Requests",
                )

    async def _reset_in(self, item: RateLimitItem, scope: str, key: str) -> int:
        stats = await self.limiter.get_window_stats(item, scope, key)
        return max(1, math.ceil(stats.reset_time - time.time()))

    async def _headers(self, policy: _Policy, key: str) -> tuple[tuple[bytes, bytes], ...]:
        """RateLimit-Policy, and RateLimit for the limit closest to running out."""
        tightest: tuple[int, int, RateLimitItem] | None = None
        for item in policy.items:
            stats = await self.limiter.get_window_stats(item, policy.scope, key)
            if tightest is None or stats.remaining < tightest[0]:
                reset = max(0, math.ceil(stats.reset_time - time.time()))
                tightest = (stats.remaining, reset, item)
        assert tightest is not None  # a policy has at least one limit
        remaining, reset, item = tightest
        return (
            (b"ratelimit-policy", policy.header.encode("latin-1")),
            (b"ratelimit", _remaining(item, remaining, reset).encode("latin-1")),
        )

    # -- what applies to a route -------------------------------------------------------------

    def _policy_for(self, route: Route) -> _Policy | None:
        endpoint = route.endpoint
        if route.opts.get(RATE_LIMIT_EXEMPT) or getattr(
            endpoint, "__brace_rate_limit_exempt__", False
        ):
            return None
        declared = getattr(endpoint, "__brace_rate_limit__", None)
        limits, key, scope = declared if declared else (route.opts.get(RATE_LIMIT), None, None)
        scope = scope or route.opts.get(RATE_LIMIT_SCOPE)
        if limits:
            items = tuple(parse_many(limits))
            where = scope or f"{','.join(sorted(route.methods))} {route.path}"
        elif self.default:
            items, where = self.default, "*"  # one budget for the whole app
        else:
            return None
        return _Policy(items, where, key or self.key, _policy_header(items))


def _with_headers(send: Send, headers: tuple[tuple[bytes, bytes], ...]) -> Send:
    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *headers]}
        await send(message)

    return send_with_headers


def _policy_header(items: Sequence[RateLimitItem]) -> str:
    """`RateLimit-Policy` (IETF draft): each limit as its quota and window in seconds."""
    return ", ".join(f'"{_name(item)}";q={item.amount};w={item.get_expiry()}' for item in items)


def _remaining(item: RateLimitItem, remaining: int, reset: int) -> str:
    """`RateLimit`: what is left of the tightest limit, and when it resets."""
    return f'"{_name(item)}";r={max(remaining, 0)};t={reset}'


def _name(item: RateLimitItem) -> str:
    return f"{item.amount}-per-{item.get_expiry()}s"
