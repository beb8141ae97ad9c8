"""Response classes: each is an ASGI app that sends itself."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterable, Iterable, Iterator, Mapping
from datetime import datetime
from email.utils import format_datetime
from http.cookies import SimpleCookie
from typing import Any, ClassVar, Literal

import msgspec

from .datastructures import MutableHeaders
from .schema_types import schema_of
from .types import Receive, Scope, Send

__all__ = [
    "HTMLResponse",
    "JSONResponse",
    "PlainTextResponse",
    "RedirectResponse",
    "Response",
    "StreamingResponse",
    "json_encoder",
]


def _encode_other(value: Any) -> Any:
    # msgspec encodes Structs, dataclasses, dicts, dates, UUIDs... natively; pydantic models
    # (duck-typed, so pydantic is never imported here) go through their own JSON dump, and
    # classes declaring a wire type (ORM models) through that type.
    dump = getattr(value, "model_dump", None)
    if dump is not None:
        return dump(mode="json")
    schema = schema_of(type(value))
    if schema is not None:
        return msgspec.convert(value, schema, from_attributes=True)
    raise TypeError(f"Objects of type {type(value).__name__} are not JSON serializable")


json_encoder = msgspec.json.Encoder(enc_hook=_encode_other)
"""The shared msgspec encoder: one instance, so its buffers are reused across requests."""

SameSite = Literal["lax", "strict", "none"]


@functools.lru_cache(maxsize=64)
def _content_type(media_type: str, charset: str) -> bytes:
    if media_type.startswith("text/") and "charset=" not in media_type:
        media_type = f"{media_type}; charset={charset}"
    return media_type.encode("latin-1")


async def send_complete(
    send: Send, status: int, headers: list[tuple[bytes, bytes]], body: bytes
) -> None:
    """Send a response held in memory: the start message, then the whole body."""
    await send({"type": "http.response.start", "status": status, "headers": headers})
    # A fresh dict each time: middleware may rewrite the message it is handed.
    await send({"type": "http.response.body", "body": body})


def _debug_of(scope: Scope) -> bool:
    app = scope.get("app")
    return bool(getattr(app, "debug", False))


def cookie_header(
    key: str,
    value: str,
    *,
    max_age: int | None = None,
    expires: datetime | str | int | None = None,
    path: str = "/",
    domain: str | None = None,
    secure: bool | None = None,
    httponly: bool = True,
    samesite: str | None = "lax",
    debug: bool = False,
) -> bytes:
    """One Set-Cookie value; `secure=None` means Secure unless the app is in debug mode."""
    cookie: SimpleCookie = SimpleCookie()
    cookie[key] = value
    morsel = cookie[key]
    morsel["path"] = path
    if max_age is not None:
        morsel["max-age"] = max_age
    if isinstance(expires, datetime):
        morsel["expires"] = format_datetime(expires, usegmt=True)
    elif expires is not None:
        morsel["expires"] = expires
    if domain:
        morsel["domain"] = domain
    if secure is None:
        secure = not debug
    if samesite and samesite.lower() == "none":
        secure = True  # browsers reject SameSite=None without Secure
    if secure:
        morsel["secure"] = True
    if httponly:
        morsel["httponly"] = True
    if samesite:
        morsel["samesite"] = samesite.capitalize()
    return morsel.OutputString().encode("latin-1")


class Response:
    """Bytes or text with a status and headers; the base of every other response."""

    media_type: ClassVar[str | None] = None
    charset: ClassVar[str] = "utf-8"

    def __init__(
        self,
        content: Any = None,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.status_code = status_code
        self.body = self.render(content)
        self._media_type = media_type if media_type is not None else self.media_type
        self._cookies: list[tuple[str, dict[str, Any]]] = []
        self.raw_headers = self._initial_headers(headers)

    def render(self, content: Any) -> bytes:
        """Turn the content given to the constructor into the body bytes."""
        if content is None:
            return b""
        if isinstance(content, (bytes, bytearray, memoryview)):
            return bytes(content)
        return str(content).encode(self.charset)

    def _initial_headers(self, headers: Mapping[str, str] | None) -> list[tuple[bytes, bytes]]:
        if not headers and self._media_type is not None and self._sends_length():
            # The common case: only a length and a type.
            return [
                (b"content-length", str(len(self.body)).encode("latin-1")),
                (b"content-type", _content_type(self._media_type, self.charset)),
            ]
        raw: list[tuple[bytes, bytes]] = []
        seen: set[bytes] = set()
        if headers:
            for key, value in headers.items():
                name = key.lower().encode("latin-1")
                seen.add(name)
                raw.append((name, value.encode("latin-1")))
        if b"content-length" not in seen and self._sends_length():
            raw.append((b"content-length", str(len(self.body)).encode("latin-1")))
        if b"content-type" not in seen and self._media_type is not None:
            raw.append((b"content-type", _content_type(self._media_type, self.charset)))
        return raw

    def _sends_length(self) -> bool:
        # 1xx, 204 and 304 responses must not carry a body, so no length either.
        return not (self.status_code < 200 or self.status_code in (204, 304))

    @property
    def headers(self) -> MutableHeaders:
        """Mutable, case-insensitive view over the raw header list."""
        return MutableHeaders(raw=self.raw_headers)

    def set_cookie(
        self,
        key: str,
        value: str = "",
        *,
        max_age: int | None = None,
        expires: datetime | str | int | None = None,
        path: str = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Set a cookie; secure by default: HttpOnly, SameSite=Lax, Secure unless the app is in
        debug mode (`secure=None` is decided when the response is sent)."""
        if samesite is not None and samesite.lower() not in ("lax", "strict", "none"):
            raise ValueError("samesite must be 'lax', 'strict' or 'none'")
        self._cookies.append(
            (
                key,
                {
                    "value": value,
                    "max_age": max_age,
                    "expires": expires,
                    "path": path,
                    "domain": domain,
                    "secure": secure,
                    "httponly": httponly,
                    "samesite": samesite,
                },
            )
        )

    def delete_cookie(
        self,
        key: str,
        *,
        path: str = "/",
        domain: str | None = None,
        secure: bool | None = None,
        httponly: bool = True,
        samesite: SameSite | None = "lax",
    ) -> None:
        """Tell the browser to drop a cookie (same path and domain as when it was set)."""
        self.set_cookie(
            key,
            "",
            max_age=0,
            expires=0,
            path=path,
            domain=domain,
            secure=secure,
            httponly=httponly,
            samesite=samesite,
        )

    def _cookie_headers(self, debug: bool) -> Iterator[tuple[bytes, bytes]]:
        for key, opts in self._cookies:
            yield b"set-cookie", cookie_header(key, debug=debug, **opts)

    def _final_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        if not self._cookies:
            return self.raw_headers
        return [*self.raw_headers, *self._cookie_headers(_debug_of(scope))]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send_complete(send, self.status_code, self._final_headers(scope), self.body)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.status_code}>"


class PlainTextResponse(Response):
    media_type = "text/plain"


class HTMLResponse(Response):
    media_type = "text/html"


class JSONResponse(Response):
    """JSON encoded with msgspec: dicts, lists, Structs, dataclasses, datetimes, UUIDs..."""

    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return json_encoder.encode(content)


class RedirectResponse(Response):
    """Redirect to `url` (302 Found by default, like Flask and Django)."""

    def __init__(
        self,
        url: str,
        status_code: int = 302,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        if "\r" in url or "\n" in url:
            raise ValueError("redirect URL must not contain CR or LF")
        super().__init__(None, status_code, headers)
        self.raw_headers.append((b"location", url.encode("utf-8")))

    @property
    def url(self) -> str:
        return self.headers["location"]


ContentStream = AsyncIterable[str | bytes] | Iterable[str | bytes]


class StreamingResponse(Response):
    """A body sent chunk by chunk from a sync or async iterator.

    The server applies backpressure through `send`; a client that goes away stops the
    iteration (async generators are closed) instead of producing into the void.
    """

    def __init__(
        self,
        content: ContentStream,
        status_code: int = 200,
        headers: Mapping[str, str] | None = None,
        media_type: str | None = None,
    ) -> None:
        self.content = content
        super().__init__(None, status_code, headers, media_type)

    def _sends_length(self) -> bool:
        return False

    async def _chunks(self) -> AsyncIterable[bytes]:
        content = self.content
        if isinstance(content, AsyncIterable):
            async for chunk in content:
                yield chunk if isinstance(chunk, bytes) else chunk.encode(self.charset)
            return
        iterator = iter(content)
        while True:
            # Sync iterators may block (files, generators doing I/O): step them in a thread.
            item: str | bytes | None = await asyncio.to_thread(_next_or_none, iterator)
            if item is None:
                return
            yield item if isinstance(item, bytes) else item.encode(self.charset)

    async def _stream(self, scope: Scope, send: Send) -> None:
        chunks = self._chunks()
        started = False
        try:
            async for chunk in chunks:
                if not started:
                    # Start only once the first chunk exists, so that a producer failing
                    # straight away still becomes a clean error response.
                    await self._start(scope, send)
                    started = True
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]
            closer = getattr(self.content, "aclose", None)
            if closer is not None:
                await closer()
        if not started:
            await self._start(scope, send)
        await send({"type": "http.response.body", "body": b""})

    async def _start(self, scope: Scope, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": self.status_code,
                "headers": self._final_headers(scope),
            }
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        stream = asyncio.ensure_future(self._stream(scope, send))
        watch = asyncio.ensure_future(_wait_for_disconnect(receive))
        try:
            done, _ = await asyncio.wait({stream, watch}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (stream, watch):
                if not task.done():
                    task.cancel()
            await asyncio.gather(stream, watch, return_exceptions=True)
        if stream in done:
            stream.result()  # re-raise an error from the producer


def _next_or_none(iterator: Iterator[str | bytes]) -> str | bytes | None:
    return next(iterator, None)


async def _wait_for_disconnect(receive: Receive) -> None:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
