"""The HTTP request: everything is parsed lazily, the body is read at most once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import msgspec

from .connection import HTTPConnection, raw_header
from .datastructures import FormData
from .errors import ClientDisconnect, HTTPError
from .forms import DEFAULT_LIMITS, FormLimits, parse_form
from .scope import BODY, FORM
from .types import Message, Receive, Scope

if TYPE_CHECKING:
    pass

__all__ = ["Request", "raw_header"]

DEFAULT_MAX_BODY_SIZE = 1024 * 1024


async def _empty_receive() -> Message:
    raise RuntimeError("this request has no body channel")


_json_decoder = msgspec.json.Decoder()
_STREAMED: Any = object()  # marks a body read chunk by chunk: nothing to replay


class Request(HTTPConnection):
    """What the client sent over HTTP: the connection's details plus the body, read once."""

    __slots__ = ("_body", "_json", "_receive", "_stream_consumed")

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        # HTTPConnection's fields set here rather than through super(): one call less on
        # every request that reads a body.
        self.scope = scope
        self._headers = None
        self._query = None
        self._cookies = None
        self._url = None
        self._receive = receive
        self._body: bytes | None = None
        self._json: Any = msgspec.UNSET
        self._stream_consumed = False

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    # -- body ---------------------------------------------------------------------------

    @property
    def max_body_size(self) -> int:
        app = self.scope.get("app")
        return getattr(app, "max_body_size", DEFAULT_MAX_BODY_SIZE)

    async def stream(self) -> AsyncIterator[bytes]:
        """The body chunk by chunk as it arrives, without a size limit (you set yours)."""
        if self._body is None:
            self._body = self._cached_body()
        if self._body is not None:
            yield self._body
            return
        if self._stream_consumed:
            raise RuntimeError("the request body was already consumed")
        self._stream_consumed = True
        self.scope[BODY] = _STREAMED
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return
            elif kind == "http.disconnect":
                raise ClientDisconnect()

    async def body(self, max_size: int | None = None) -> bytes:
        """The whole body; over `max_size` (default: the app's `max_body_size`) answers 413."""
        if self._body is not None:
            return self._body
        # Read earlier in this request by another Request object (a CSRF check, middleware).
        cached = self._cached_body()
        if cached is not None:
            self._body = cached
            return cached
        limit = self.max_body_size if max_size is None else max_size
        declared = raw_header(self.scope, b"content-length")
        if declared is not None:
            if not declared.isdigit():
                raise HTTPError(400, "Invalid Content-Length header.")
            if int(declared) > limit:
                raise HTTPError(413, f"The request body is larger than {limit} bytes.")
        if self._stream_consumed:
            raise RuntimeError("the request body was already consumed")
        self._stream_consumed = True
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await self._receive()
            kind = message["type"]
            if kind == "http.request":
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise HTTPError(413, f"The request body is larger than {limit} bytes.")
                if not message.get("more_body", False):
                    # Most bodies arrive in one message: keep it as it is, no join.
                    body = self._body = b"".join((*chunks, chunk)) if chunks else chunk
                    self.scope[BODY] = body
                    return body
                chunks.append(chunk)
            elif kind == "http.disconnect":
                raise ClientDisconnect()

    async def json(self) -> Any:
        """The body decoded as JSON; malformed JSON answers 400, a non-JSON type 415."""
        if self._json is msgspec.UNSET:
            content_type = self.headers.get("content-type", "")
            media = content_type.partition(";")[0].strip().lower()
            if media and media != "application/json" and not media.endswith("+json"):
                raise HTTPError(415, f"Expected a JSON body, got Content-Type {media!r}.")
            body = await self.body()
            if not body:
                raise HTTPError(400, "The request body is empty; JSON was expected.")
            try:
                self._json = _json_decoder.decode(body)
            except (msgspec.DecodeError, UnicodeDecodeError) as exc:
                raise HTTPError(400, f"Malformed JSON: {exc}") from None
            except RecursionError:
                raise HTTPError(400, "Malformed JSON: nested too deeply.") from None
        return self._json

    def _cached_body(self) -> bytes | None:
        """The body another Request object of this request already read, if any."""
        cached: bytes | None = self.scope.get(BODY)
        if cached is _STREAMED:
            raise RuntimeError("the request body was already consumed as a stream")
        return cached

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """The submitted form (urlencoded or multipart), parsed once per request.

        Uploaded files are closed after the response is sent. `limits` overrides the app's
        `form_limits` for this call; broken rules answer 400 or 413, a non-form body 415.
        """
        cached: FormData | None = self.scope.get(FORM)
        if cached is not None:
            return cached
        if limits is None:
            limits = getattr(self.scope.get("app"), "form_limits", DEFAULT_LIMITS)
        form = await parse_form(self, limits)
        self.scope[FORM] = form
        return form

    async def is_disconnected(self) -> bool:
        """True once the client has gone away (only meaningful after the body was read)."""
        if not self._stream_consumed and self._body is None:
            return False
        try:
            message = await asyncio.wait_for(self._receive(), timeout=0.0001)
        except TimeoutError:
            return False
        return message.get("type") == "http.disconnect"

    def __repr__(self) -> str:
        return f"<Request {self.scope.get('method')} {self.scope.get('path')}>"
