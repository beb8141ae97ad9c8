"""Login throttling: after `limit` failed attempts within `window` seconds, further attempts
for that account, or from that client address, are refused until the window passes.

Backends: memory (one process) or Redis (`redis://...`, shared by every worker and host).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any, Protocol

from .._clients import client_group

__all__ = ["MemoryThrottleStore", "RedisThrottleStore", "Throttle", "ThrottleStore"]


class ThrottleStore(Protocol):
    async def hit(self, key: str, window: int) -> int: ...

    async def release(self, key: str) -> None: ...

    async def reset(self, key: str) -> None: ...

    async def close(self) -> None: ...


class MemoryThrottleStore:
    """Counters in this process: right for one worker and for tests."""

    def __init__(self) -> None:
        self._counters: dict[str, tuple[int, float]] = {}

    def _live(self, key: str) -> tuple[int, float] | None:
        entry = self._counters.get(key)
        if entry is not None and entry[1] <= time.monotonic():
            del self._counters[key]
            return None
        return entry

    async def hit(self, key: str, window: int) -> int:
        entry = self._live(key)
        count = (entry[0] if entry else 0) + 1
        expires = entry[1] if entry else time.monotonic() + window
        self._counters[key] = (count, expires)
        if len(self._counters) > 100_000:  # bounded: forget expired counters now and then
            for stale in [k for k, (_, exp) in self._counters.items() if exp <= time.monotonic()]:
                del self._counters[stale]
        return count

    async def release(self, key: str) -> None:
        entry = self._live(key)
        if entry is not None and entry[0] > 0:
            self._counters[key] = (entry[0] - 1, entry[1])

    async def reset(self, key: str) -> None:
        self._counters.pop(key, None)

    async def close(self) -> None:
        return None


class RedisThrottleStore:
    """Counters in Redis with an expiry: every worker sees the same failures."""

    def __init__(self, url: str) -> None:
        from redis import asyncio as redis_asyncio

        self._client: Any = redis_asyncio.from_url(url)

    async def hit(self, key: str, window: int) -> int:
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, ex=window, nx=True)  # starts the window on the first failure
            pipe.incr(key)
            _, count = await pipe.execute()
        return int(count)

    async def release(self, key: str) -> None:
        # DECR only while the counter exists (an expired window must not go negative).
        await self._client.eval(_RELEASE, 1, key)

    async def reset(self, key: str) -> None:
        await self._client.delete(key)

    async def close(self) -> None:
        await self._client.aclose()


_RELEASE = """
if redis.call('GET', KEYS[1]) and tonumber(redis.call('GET', KEYS[1])) > 0 then
  return redis.call('DECR', KEYS[1])
end
return 0
"""


def _key(kind: str, value: str, name: str = "login") -> str:
    digest = hashlib.sha256(value.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"brace:{name}:{kind}:{digest}"


class Throttle:
    """Counts failed logins per account and per client address."""

    def __init__(
        self,
        store: ThrottleStore | str = "memory",
        limit: int = 10,
        window: int = 60,
        *,
        name: str = "login",
    ):
        if isinstance(store, str):
            store = MemoryThrottleStore() if store == "memory" else RedisThrottleStore(store)
        self.store = store
        self.limit = limit
        self.window = window
        self.name = name
        """What is counted (the key prefix): "login" attempts, "reset" requests."""

    def _keys(self, account: str, client: str | None) -> list[str]:
        keys = [_key("account", account.casefold(), self.name)]
        if client:
            keys.append(_key("client", client_group(client), self.name))
        return keys

    async def attempt(self, account: str, client: str | None) -> bool:
        """Count this login attempt before its password is checked, atomically in the store,
        so that concurrent attempts cannot all be evaluated; False once over the limit."""
        allowed = True
        for key in self._keys(account, client):
            if await self.store.hit(key, self.window) > self.limit:
                # Refused: give the ticket back, so refused tries neither count nor extend.
                await self.store.release(key)
                allowed = False
        return allowed

    async def succeeded(self, account: str, client: str | None = None) -> None:
        """A right password: the account starts afresh, and this attempt no longer counts
        against the client address (only failures should)."""
        await self.store.reset(_key("account", account.casefold(), self.name))
        if client:
            await self.store.release(_key("client", client_group(client), self.name))
