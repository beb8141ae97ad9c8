"""GZip: compress response bodies for clients that accept it, including streamed ones."""

from __future__ import annotations

import re
import zlib

from ..core.types import ASGIApp, Message, Receive, Scope, Send
from .cors import _add_vary

__all__ = ["GZipMiddleware"]

# wbits=31 makes zlib write the gzip container (header + CRC trailer) instead of raw zlib.
_GZIP_WBITS = 31
_QVALUE = re.compile(rb"0(\.[0-9]{0,3})?|1(\.0{0,3})?")
# 206: Content-Range counts bytes of the identity body, so compressing would corrupt it.
_NEVER_COMPRESS_STATUS = frozenset({204, 206, 304})


def _qvalue(params: bytes) -> float:
    for param in params.split(b";"):
        name, _, value = param.partition(b"=")
        if name.strip().lower() == b"q":
            value = value.strip()
            # A malformed weight is read as "not acceptable": never guess in the client's favour.
            return float(value) if _QVALUE.fullmatch(value) else 0.0
    return 1.0


def _accepts_gzip(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether an Accept-Encoding header lets us answer with gzip (honouring q=0)."""
    gzip_q: float | None = None
    any_q: float | None = None
    for key, value in headers:
        if key != b"accept-encoding":
            continue
        for item in value.lower().split(b","):
            coding, _, params = item.partition(b";")
            coding = coding.strip()
            if coding == b"gzip":
                gzip_q = _qvalue(params)
            elif coding == b"*":
                any_q = _qvalue(params)
    if gzip_q is not None:
        return gzip_q > 0
    return any_q is not None and any_q > 0


class GZipMiddleware:
    """Gzip-compresses eligible responses when the client sends Accept-Encoding: gzip."""

    def __init__(self, app: ASGIApp, minimum_size: int = 500, compresslevel: int = 6) -> None:
        if minimum_size < 0:
            raise ValueError("GZipMiddleware: minimum_size must be >= 0")
        if not 1 <= compresslevel <= 9:
            raise ValueError("GZipMiddleware: compresslevel must be between 1 and 9")
        self.app = app
        self.minimum_size = minimum_size
        self.compresslevel = compresslevel

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            # A HEAD answer has no body, and its headers must match what GET would carry
            # without compression having been decided on a body we never see.
            or scope["method"] == "HEAD"
            or not _accepts_gzip(scope["headers"])
        ):
            await self.app(scope, receive, send)
            return
        responder = _GZipResponder(send, self.minimum_size, self.compresslevel)
        await self.app(scope, receive, responder.send)


class _GZipResponder:
    """Per-response state: holds the start message until the first body chunk decides."""

    __slots__ = ("_compressor", "_level", "_minimum_size", "_next", "_passthrough", "_start")

    def __init__(self, send: Send, minimum_size: int, level: int) -> None:
        self._next = send
        self._minimum_size = minimum_size
        self._level = level
        self._start: Message | None = None
        self._compressor: zlib._Compress | None = None
        self._passthrough = False

    async def send(self, message: Message) -> None:
        if self._passthrough:
            await self._next(message)
            return
        kind = message["type"]
        if kind == "http.response.start":
            if _eligible(message):
                self._start = message
            else:
                self._passthrough = True
                await self._next(message)
        elif kind == "http.response.body" and self._compressor is not None:
            await self._send_chunk(message)
        elif kind == "http.response.body" and self._start is not None:
            await self._first_body(self._start, message)
        else:
            # Something we cannot compress (http.response.pathsend, a misbehaving app...):
            # release the held start unchanged and step aside.
            self._passthrough = self._compressor is None
            if self._start is not None:
                start, self._start = self._start, None
                await self._next(start)
            await self._next(message)

    async def _first_body(self, start: Message, message: Message) -> None:
        self._start = None
        body: bytes = message.get("body", b"")
        more_body: bool = message.get("more_body", False)
        if not more_body:
            if len(body) < self._minimum_size:
                self._passthrough = True
                await self._next(start)
                await self._next(message)
                return
            compressed = zlib.compress(body, self._level, wbits=_GZIP_WBITS)
            self._passthrough = True
            await self._next(_compressed_start(start, len(compressed)))
            await self._next({"type": "http.response.body", "body": compressed})
            return

        declared = _content_length(start)
        if declared is not None and declared < self._minimum_size:
            self._passthrough = True
            await self._next(start)
            await self._next(message)
            return
        self._compressor = zlib.compressobj(self._level, zlib.DEFLATED, _GZIP_WBITS)
        await self._next(_compressed_start(start, None))
        await self._send_chunk(message)

    async def _send_chunk(self, message: Message) -> None:
        assert self._compressor is not None
        more_body: bool = message.get("more_body", False)
        # SYNC_FLUSH after every chunk so a streamed response reaches the client as it is
        # produced instead of waiting in the compressor's window.
        data = self._compressor.compress(message.get("body", b"")) + self._compressor.flush(
            zlib.Z_SYNC_FLUSH if more_body else zlib.Z_FINISH
        )
        if not more_body:
            self._compressor = None
            self._passthrough = True
        await self._next({"type": "http.response.body", "body": data, "more_body": more_body})


def _eligible(start: Message) -> bool:
    status = start.get("status", 200)
    if status < 200 or status in _NEVER_COMPRESS_STATUS:
        return False
    for key, value in start.get("headers", ()):
        name = key.lower()
        if name == b"content-encoding" or name == b"content-range":
            return False
        # Server-sent events must flush every event as is; compression would buffer them.
        if name == b"content-type" and value.lower().startswith(b"text/event-stream"):
            return False
        if name == b"cache-control" and b"no-transform" in value.lower():
            return False
    return True


def _content_length(start: Message) -> int | None:
    for key, value in start.get("headers", ()):
        if key.lower() == b"content-length":
            return int(value) if value.strip().isdigit() else None
    return None


def _compressed_start(start: Message, length: int | None) -> Message:
    headers: list[tuple[bytes, bytes]] = []
    for key, value in start.get("headers", ()):
        name = key.lower()
        if name == b"content-length":
            continue
        if name == b"etag" and not value.startswith(b"W/"):
            # The bytes differ from the identity representation, so a strong validator
            # would lie to caches doing byte-range or conditional requests.
            value = b"W/" + value
        headers.append((key, value))
    headers.append((b"content-encoding", b"gzip"))
    if length is not None:
        headers.append((b"content-length", str(length).encode()))
    _add_vary(headers, b"Accept-Encoding")
    return {**start, "headers": headers}
