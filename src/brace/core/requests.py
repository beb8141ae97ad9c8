"""The HTTP request: everything is parsed lazily, the body is read at most once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from http.cookies import CookieError, SimpleCookie
from typing import TYPE_CHECKING, Any

import msgspec

from .datastructures import URL, FormData, Headers, QueryParams, State
from .errors import ClientDisconnect, HTTPError
from .types import Message, Receive, Scope

if TYPE_CHECKING:
    from .app import App
    from .formparser import FormLimits

__all__ = ["Request", "raw_header"]

DEFAULT_MAX_BODY_SIZE = 1024 * 1024


async def _empty_receive() -> Message:
    raise RuntimeError("this request has no body channel")


_json_decoder = msgspec.json.Decoder()
_STREAMED: Any = object()  # marks a body read chunk by chunk: nothing to replay


def raw_header(scope: Scope, name: bytes) -> bytes | None:
    """The first value of a header, straight from the ASGI list (for the hot path)."""
    for key, value in scope["headers"]:
        if key == name:
            return value  # type: ignore[no-any-return]
    return None


class Request:
    """What the client sent, built from the ASGI scope on demand."""

    __slots__ = (
        "_body",
        "_cookies",
        "_headers",
        "_json",
        "_query",
        "_receive",
        "_stream_consumed",
        "_url",
        "scope",
    )

    def __init__(self, scope: Scope, receive: Receive = _empty_receive) -> None:
        self.scope = scope
        self._receive = receive
        self._headers: Headers | None = None
        self._query: QueryParams | None = None
        self._cookies: dict[str, str] | None = None
        self._url: URL | None = None
        self._body: bytes | None = None
        self._json: Any = msgspec.UNSET
        self._stream_consumed = False

    # -- what was asked for -------------------------------------------------------------

    @property
    def method(self) -> str:
        return str(self.scope["method"])

    @property
    def path(self) -> str:
        return str(self.scope["path"])

    @property
    def url(self) -> URL:
        if self._url is None:
            self._url = URL.from_scope(self.scope)
        return self._url

    @property
    def base_url(self) -> URL:
        """Scheme, host and the root path the app is mounted at, ending in "/"."""
        url = self.url
        root = self.scope.get("root_path", "")
        return URL(f"{url.scheme}://{url.netloc}{root}/")

    @property
    def headers(self) -> Headers:
        if self._headers is None:
            self._headers = Headers(raw=self.scope["headers"])
        return self._headers

    @property
    def query_params(self) -> QueryParams:
        """Query string parameters; invalid UTF-8 answers 400 rather than guessing."""
        if self._query is None:
            try:
                self._query = QueryParams(self.scope.get("query_string", b""))
            except (UnicodeDecodeError, ValueError):
                raise HTTPError(400, "The query string is not valid UTF-8.") from None
        return self._query

    @property
    def path_params(self) -> dict[str, Any]:
        """The route's path parameters, converted; built on first use."""
        params: dict[str, Any] | None = self.scope.get("path_params")
        if params is None:
            # The handler plan leaves (names, values) behind: a dict only when someone asks.
            names, values = self.scope.get("brace.path_values", ((), ()))
            params = self.scope["path_params"] = dict(zip(names, values, strict=True))
        return params

    @property
    def cookies(self) -> dict[str, str]:
        """Cookies sent by the client; a malformed cookie is skipped, never an error."""
        if self._cookies is None:
            cookies: dict[str, str] = {}
            for header in self.headers.getall("cookie"):
                for chunk in header.split(";"):
                    name, sep, value = chunk.partition("=")
                    name = name.strip()
                    if not sep or not name:
                        continue
                    value = value.strip()
                    if len(value) >= 2 and value[0] == value[-1] == '"':
                        try:
                            parsed: SimpleCookie = SimpleCookie()
                            parsed.load(f"{name}={value}")
                            value = parsed[name].value
                        except (CookieError, KeyError):
                            continue
                    cookies[name] = value
            self._cookies = cookies
        return self._cookies

    @property
    def client(self) -> tuple[str, int] | None:
        """(host, port) of the peer as the server saw it (a proxy's, behind one)."""
        client = self.scope.get("client")
        return (client[0], client[1]) if client else None

    @property
    def state(self) -> State:
        """Per-request attribute bag shared by middleware, dependencies and the handler."""
        values = self.scope.setdefault("brace.state", {})
        return State(values)

    @property
    def session(self) -> dict[str, Any]:
        """The session (`brace.sessions.SessionMiddleware` must be installed)."""
        try:
            return self.scope["session"]  # type: ignore[no-any-return]
        except KeyError:
            raise RuntimeError(
                "request.session needs brace.sessions.SessionMiddleware: "
                "app.add_middleware(SessionMiddleware, secret_key=...)"
            ) from None

    @property
    def app(self) -> App:
        return self.scope["app"]  # type: ignore[no-any-return]

    def url_for(self, name: Any, /, **params: Any) -> str:
        """Path to a named route (or handler function), including the mount root path."""
        root: str = self.scope.get("root_path", "")
        return root + self.app.url_for(name, **params)

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
        self.scope["brace.body"] = _STREAMED
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
                    self.scope["brace.body"] = body
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
        cached: bytes | None = self.scope.get("brace.body")
        if cached is _STREAMED:
            raise RuntimeError("the request body was already consumed as a stream")
        return cached

    async def form(self, limits: FormLimits | None = None) -> FormData:
        """The submitted form (urlencoded or multipart), parsed once per request.

        Uploaded files are closed after the response is sent. `limits` overrides the app's
        `form_limits` for this call; broken rules answer 400 or 413, a non-form body 415.
        """
        cached: FormData | None = self.scope.get("brace.form")
        if cached is not None:
            return cached
        from .formparser import DEFAULT_LIMITS, parse_form

        if limits is None:
            limits = getattr(self.scope.get("app"), "form_limits", DEFAULT_LIMITS)
        form = await parse_form(self, limits)
        self.scope["brace.form"] = form
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
