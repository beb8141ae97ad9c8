"""Whole responses from the cache, for routes declared with `opts={"cache": seconds}`.

The key is the method, path and query string, plus the request headers the route names in
`cache_vary`. Only complete `200` answers are stored, never one that sets a cookie, says
`Cache-Control: no-store` or `private`, or streams. Requests carrying credentials (an
`Authorization` header or any cookie) are neither served from nor stored in the cache unless
the route says `cache_private=True`; then the credentials are part of the key, so each user
has their own entry. A stored answer gets a weak `ETag`, and a request whose
`If-None-Match` matches it is answered `304 Not Modified` without a body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING, Any

import msgspec

from .core.types import Message, Receive, Scope, Send

if TYPE_CHECKING:
    from .cache import Cache
    from .core.handlers import Plan

__all__ = ["cached_plan", "etag_plan"]

_CREDENTIALS = (b"authorization", b"cookie")
_NOT_STORED = (b"no-store", b"private")


class _Stored(msgspec.Struct, array_like=True):
    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes


def cached_plan(
    cache: Cache,
    plan: Plan,
    *,
    ttl: float,
    vary: tuple[str, ...],
    private: bool,
    tags: Sequence[str],
) -> Plan:
    """`plan`, answering from `cache` when it can and storing what it may."""
    wanted = tuple(name.encode("latin-1") for name in vary)

    async def serve(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await plan(scope, receive, send, values)  # a route for GET and POST: POST runs
            return
        headers = scope["headers"]
        credentials = [v for k, v in headers if k in _CREDENTIALS]
        if credentials and not private:
            await plan(scope, receive, send, values)  # someone's own page: never shared
            return
        key = _key(scope, headers, wanted, credentials)
        stored = await cache.get(key, type=_Stored)
        if stored is not None:
            await _answer(stored, headers, send)
            return
        recorder = _Recorder(send, wanted)
        try:
            await plan(scope, receive, recorder.send, values)
        finally:
            await recorder.flush()
        if recorder.storable(wanted):
            answer = _Stored(recorder.status, recorder.headers, recorder.body)
            await cache.set(key, answer, ttl, tags)

    return serve


def _key(
    scope: Scope,
    headers: list[tuple[bytes, bytes]],
    vary: tuple[bytes, ...],
    credentials: list[bytes],
) -> str:
    """The path and query as they are (cheap: no hashing on the common key), then the
    `cache_vary` headers' values and a digest of the credentials for private entries."""
    key = f"response:{scope['path']}?{scope['query_string'].decode('latin-1')}"
    if vary:
        values = (b"|".join(v for k, v in headers if k == name) for name in vary)
        key += "|" + "|".join(v.decode("latin-1") for v in values)
    if credentials:  # private entries: one per credential, never the credential itself
        digest = hashlib.sha256(b"\x00".join(credentials)).hexdigest()
        key += f"|user:{digest}"
    return key


async def _answer(stored: _Stored, headers: list[tuple[bytes, bytes]], send: Send) -> None:
    """A stored answer, or a 304 when the client holds it already."""
    send = _NotModified.for_request(headers, send).send
    await send({"type": "http.response.start", "status": stored.status, "headers": stored.headers})
    await send({"type": "http.response.body", "body": stored.body})


def _if_none_match(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    found: set[bytes] = set()
    for name, value in headers:
        if name == b"if-none-match":
            found.update(tag.strip() for tag in value.split(b","))
    return found


class _Recorder:
    """Passes the answer on while keeping a copy, if it is one worth keeping. The start of a
    complete answer is held until its body arrives, so the first answer carries the same
    `ETag` as every later one from the cache."""

    def __init__(self, send: Send, vary: tuple[bytes, ...] = ()) -> None:
        self._send = send
        self._vary = vary
        self._start: Message | None = None
        self.status = 0
        self.headers: list[tuple[bytes, bytes]] = []
        self.body = b""
        self.complete = False
        self.streamed = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = list(message.get("headers", ()))
            self._start = message
            return
        if message["type"] == "http.response.body" and self._start is not None:
            start, self._start = self._start, None
            if message.get("more_body", False):
                self.streamed = True
            else:
                self.body = message.get("body", b"")
                self.complete = True
                if self.storable(self._vary):
                    self.headers = self.headers_with_etag()
                    start = {**start, "headers": self.headers}
            await self._send(start)
        await self._send(message)

    async def flush(self) -> None:
        """A start still held (no body ever followed): send it, with an empty body."""
        if self._start is not None:
            start, self._start = self._start, None
            await self._send(start)
            await self._send({"type": "http.response.body", "body": b""})

    def storable(self, vary: tuple[bytes, ...] = ()) -> bool:
        """A complete 200 that sets no cookie, allows storing, and varies only on headers
        that are part of the key."""
        if self.status != 200 or not self.complete or self.streamed:
            return False
        for name, value in self.headers:
            if name == b"set-cookie":
                return False
            if name == b"cache-control" and any(v in value.lower() for v in _NOT_STORED):
                return False
            if name == b"vary":
                named = {h.strip().lower() for h in value.split(b",")}
                if not named <= set(vary):  # "*", or a header the key does not hold
                    return False
        return True

    def headers_with_etag(self) -> list[tuple[bytes, bytes]]:
        if any(name == b"etag" for name, _ in self.headers):
            return self.headers
        tag = b'W/"' + hashlib.sha256(self.body).hexdigest()[:20].encode() + b'"'
        return [*self.headers, (b"etag", tag)]


def etag_plan(plan: Plan) -> Plan:
    """`plan` with a weak `ETag` on complete 200 answers (unless the handler gave one) and
    `304 Not Modified`, without the body, when the request's `If-None-Match` holds it: the
    handler still runs, the bytes are not sent again."""

    async def tagged(scope: Scope, receive: Receive, send: Send, values: Sequence[Any]) -> None:
        if scope["method"] not in ("GET", "HEAD"):
            await plan(scope, receive, send, values)
            return
        recorder = _Recorder(_NotModified.for_request(scope["headers"], send).send)
        try:
            await plan(scope, receive, recorder.send, values)
        finally:
            await recorder.flush()

    return tagged


class _NotModified:
    """Turns a 200 the client already holds into a 304 without a body: its ETag is in
    `If-None-Match`, or (without `If-None-Match`, as RFC 9110 orders) its `Last-Modified`
    is no later than `If-Modified-Since`."""

    def __init__(self, send: Send, held: set[bytes], since: datetime | None) -> None:
        self._send = send
        self._held = held
        self._since = since
        self._dropping = False

    @classmethod
    def for_request(cls, headers: list[tuple[bytes, bytes]], send: Send) -> _NotModified:
        """What the request says it holds: its `If-None-Match` tags, its `If-Modified-Since`."""
        since = next((v for k, v in headers if k == b"if-modified-since"), None)
        return cls(send, _if_none_match(headers), _http_date(since))

    def _unchanged(self, headers: Sequence[tuple[bytes, bytes]]) -> bool:
        if self._held:
            etag = next((v for k, v in headers if k == b"etag"), None)
            return etag is not None and (etag in self._held or b"*" in self._held)
        if self._since is None:
            return False
        modified = _http_date(next((v for k, v in headers if k == b"last-modified"), None))
        return modified is not None and modified <= self._since

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start" and message["status"] == 200:
            headers = message.get("headers", ())
            if self._unchanged(headers):
                wanted = (b"etag", b"cache-control", b"vary", b"last-modified")
                kept = [(k, v) for k, v in headers if k in wanted]
                message = {"type": "http.response.start", "status": 304, "headers": kept}
                self._dropping = True
        elif message["type"] == "http.response.body" and self._dropping:
            message = {"type": "http.response.body", "body": b""}
        await self._send(message)


def _http_date(value: bytes | None) -> datetime | None:
    """An HTTP date (`Sun, 06 Nov 1994 08:49:37 GMT`), or None when absent or malformed."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value.decode("latin-1"))
    except (TypeError, ValueError, IndexError):
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)
