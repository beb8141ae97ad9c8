"""Where session data lives: in the signed cookie itself, in process memory, or in Redis."""

from __future__ import annotations

import time
from typing import Any, Protocol

import msgspec

from ._signing import Signer

__all__ = ["CookieBackend", "MemoryBackend", "RedisBackend", "SessionBackend", "backend_for"]

_decode = msgspec.json.Decoder(dict[str, Any])


class SessionBackend(Protocol):
    """Turns a cookie value into (id, data) and data back into a cookie value."""

    async def load(self, cookie: str) -> tuple[str, dict[str, Any]] | None: ...

    async def save(self, session_id: str, data: dict[str, Any]) -> str: ...

    async def delete(self, session_id: str) -> None: ...

    async def close(self) -> None: ...


class CookieBackend:
    """The data, signed, in the cookie: no server state at all (the default)."""

    revocable = False  # a copy of the cookie stays valid until it expires

    def __init__(self, signer: Signer, max_age: int) -> None:
        self.signer = signer
        self.max_age = max_age

    async def load(self, cookie: str) -> tuple[str, dict[str, Any]] | None:
        payload = self.signer.unsign(cookie, self.max_age)
        if payload is None:
            return None
        try:
            document = _decode.decode(payload)
            session_id, data = document["id"], document["data"]
        except (msgspec.DecodeError, KeyError, UnicodeDecodeError):
            return None
        if not isinstance(session_id, str) or not isinstance(data, dict):
            return None
        return session_id, data

    async def save(self, session_id: str, data: dict[str, Any]) -> str:
        return self.signer.sign(msgspec.json.encode({"id": session_id, "data": data}))

    async def delete(self, session_id: str) -> None:
        return None  # nothing is stored server-side

    async def close(self) -> None:
        return None


class _IdBackend:
    """Server-side storage: the cookie carries only the signed session id."""

    revocable = True  # deleting the stored data ends the session for every copy of the cookie

    def __init__(self, signer: Signer, max_age: int) -> None:
        self.signer = signer
        self.max_age = max_age

    async def close(self) -> None:
        return None

    def _id_of(self, cookie: str) -> str | None:
        payload = self.signer.unsign(cookie, self.max_age)
        if payload is None:
            return None
        try:
            return payload.decode("ascii")
        except UnicodeDecodeError:
            return None


class MemoryBackend(_IdBackend):
    """Sessions in this process's memory: for development and tests (one worker only)."""

    def __init__(self, signer: Signer, max_age: int) -> None:
        super().__init__(signer, max_age)
        self.store: dict[str, tuple[float, dict[str, Any]]] = {}

    async def load(self, cookie: str) -> tuple[str, dict[str, Any]] | None:
        session_id = self._id_of(cookie)
        if session_id is None:
            return None
        entry = self.store.get(session_id)
        if entry is None or entry[0] < time.monotonic():
            self.store.pop(session_id, None)
            return None
        return session_id, dict(entry[1])

    async def save(self, session_id: str, data: dict[str, Any]) -> str:
        self.store[session_id] = (time.monotonic() + self.max_age, dict(data))
        return self.signer.sign(session_id.encode("ascii"))

    async def delete(self, session_id: str) -> None:
        self.store.pop(session_id, None)


class RedisBackend(_IdBackend):
    """Sessions in Redis with a TTL: shared by every worker and host."""

    def __init__(self, signer: Signer, max_age: int, url: str, prefix: str = "brace:session:"):
        super().__init__(signer, max_age)
        try:
            from redis import asyncio as redis_asyncio
        except ImportError as exc:  # pragma: no cover - exercised only without the extra
            raise ImportError('Redis sessions need redis-py: pip install "brace[redis]"') from exc
        self.client: Any = redis_asyncio.from_url(url)
        self.prefix = prefix

    async def load(self, cookie: str) -> tuple[str, dict[str, Any]] | None:
        session_id = self._id_of(cookie)
        if session_id is None:
            return None
        raw = await self.client.get(self.prefix + session_id)
        if raw is None:
            return None
        try:
            return session_id, _decode.decode(raw)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return None

    async def save(self, session_id: str, data: dict[str, Any]) -> str:
        await self.client.set(self.prefix + session_id, msgspec.json.encode(data), ex=self.max_age)
        return self.signer.sign(session_id.encode("ascii"))

    async def delete(self, session_id: str) -> None:
        await self.client.delete(self.prefix + session_id)

    async def close(self) -> None:
        await self.client.aclose()


def backend_for(url: str, signer: Signer, max_age: int) -> SessionBackend:
    """`"cookie"` (default), `"memory"`, or a `redis://` / `rediss://` URL."""
    if url == "cookie":
        return CookieBackend(signer, max_age)
    if url in ("memory", "memory://"):
        return MemoryBackend(signer, max_age)
    if url.startswith(("redis://", "rediss://", "unix://")):
        return RedisBackend(signer, max_age, url)
    raise ValueError(f"unknown session backend {url!r}: use 'cookie', 'memory' or a redis:// URL")
