"""CORS: let chosen browser origins call the API, answering preflights before any handler runs."""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["CORSMiddleware"]

# Headers a browser may send cross-origin without the server listing them; content-type is
# included because browsers still preflight it for non-form bodies such as application/json.
_SAFELISTED_HEADERS = frozenset({"accept", "accept-language", "content-language", "content-type"})

# A serialized origin is "scheme://host[:port]" or "null". Anything else (paths, spaces, CR/LF,
# userinfo) is rejected before any comparison so a hostile value can never be echoed back.
_ORIGIN_SYNTAX = re.compile(r"null|[A-Za-z][A-Za-z0-9+.-]*://[A-Za-z0-9._~!$&'()*+,;=:\[\]%-]+")
# Caps the work a user-supplied allow_origin_regex can be made to do by one request.
_MAX_ORIGIN_LENGTH = 2048
_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")

_PLAIN_TEXT = (b"content-type", b"text/plain; charset=utf-8")
_VARY_ORIGIN = (b"vary", b"Origin")


def _check_token(kind: str, value: str) -> str:
    if value != "*" and not _TOKEN.fullmatch(value):
        raise ValueError(f"CORSMiddleware: {kind} {value!r} is not a valid HTTP token")
    return value


class CORSMiddleware:
    """Answers CORS preflights and adds Access-Control-* headers to cross-origin responses."""

    def __init__(
        self,
        app: ASGIApp,
        allow_origins: Sequence[str] = (),
        allow_origin_regex: str | None = None,
        allow_methods: Sequence[str] = ("GET",),
        allow_headers: Sequence[str] = (),
        allow_credentials: bool = False,
        expose_headers: Sequence[str] = (),
        max_age: int = 600,
    ) -> None:
        for name, value in (
            ("allow_origins", allow_origins),
            ("allow_methods", allow_methods),
            ("allow_headers", allow_headers),
            ("expose_headers", expose_headers),
        ):
            # A bare string would be iterated character by character and half work.
            if isinstance(value, str):
                raise TypeError(f"CORSMiddleware: {name} must be a list, not a str")
        for origin in allow_origins:
            if origin != "*" and not _ORIGIN_SYNTAX.fullmatch(origin):
                # A trailing slash or a path never matches what browsers send: fail now.
                raise ValueError(
                    f"CORSMiddleware: {origin!r} is not an origin; use 'scheme://host[:port]'"
                )
        allow_any_origin = "*" in allow_origins
        if allow_any_origin and allow_credentials:
            raise ValueError(
                "CORSMiddleware: allow_origins=['*'] with allow_credentials=True would let any "
                "site act with the user's cookies; list the trusted origins instead"
            )
        if "*" in expose_headers and allow_credentials:
            raise ValueError(
                "CORSMiddleware: browsers read expose_headers=['*'] literally when credentials "
                "are allowed; list the headers to expose"
            )
        if max_age < 0:
            raise ValueError("CORSMiddleware: max_age must be >= 0")

        self.app = app
        self.allow_credentials = allow_credentials
        self._allow_any_origin = allow_any_origin
        self._origins = frozenset(allow_origins)
        self._origin_regex = re.compile(allow_origin_regex) if allow_origin_regex else None
        # With credentials the origin is always echoed, so the answer depends on it.
        self._depends_on_origin = not allow_any_origin or allow_credentials

        methods = [_check_token("method", m).upper() for m in allow_methods]
        self._any_method = "*" in methods
        self._methods = frozenset(methods)
        headers = [_check_token("header", h).lower() for h in allow_headers]
        self._any_header = "*" in headers
        self._headers = _SAFELISTED_HEADERS | frozenset(headers)
        for header in expose_headers:
            _check_token("header", header)

        # Everything that does not depend on the request is encoded once, here.
        common: list[tuple[bytes, bytes]] = []
        if allow_credentials:
            common.append((b"access-control-allow-credentials", b"true"))
        self._simple_headers = list(common)
        if expose_headers:
            self._simple_headers.append(
                (b"access-control-expose-headers", ", ".join(expose_headers).encode("latin-1"))
            )
        self._preflight_headers = [*common, (b"access-control-max-age", str(max_age).encode())]
        if not self._any_method:
            self._preflight_headers.append(
                (b"access-control-allow-methods", ", ".join(sorted(self._methods)).encode())
            )

    def is_allowed_origin(self, origin: str) -> bool:
        """Whether a browser from `origin` may read responses from this app."""
        if len(origin) > _MAX_ORIGIN_LENGTH or not _ORIGIN_SYNTAX.fullmatch(origin):
            return False
        if self._allow_any_origin or origin in self._origins:
            return True
        # fullmatch, not match: "https://a.example.com.evil.com" must not pass a regex
        # written as r"https://.*\.example\.com".
        return self._origin_regex is not None and self._origin_regex.fullmatch(origin) is not None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        origin: bytes | None = None
        origin_count = 0
        request_method: bytes | None = None
        request_headers: bytes | None = None
        for key, value in scope["headers"]:
            if key == b"origin":
                origin = value
                origin_count += 1
            elif key == b"access-control-request-method":
                request_method = value
            elif key == b"access-control-request-headers":
                request_headers = (
                    value if request_headers is None else request_headers + b"," + value
                )

        if origin is None:
            await self.app(scope, receive, send)
            return
        # Browsers send exactly one Origin; several are a forged request, never allowed.
        origin_str = origin.decode("latin-1") if origin_count == 1 else ""

        if scope["method"] == "OPTIONS" and request_method is not None:
            await self._preflight(origin_str, request_method, request_headers, send)
            return
        await self.app(scope, receive, self._simple_send(origin_str, send))

    async def _preflight(
        self, origin: str, method: bytes, request_headers: bytes | None, send: Send
    ) -> None:
        headers: list[tuple[bytes, bytes]] = []
        if self._depends_on_origin:
            headers.append(_VARY_ORIGIN)
        if not self.is_allowed_origin(origin):
            await _plain_text(send, 400, b"Disallowed CORS origin", headers)
            return

        method_str = method.decode("latin-1")
        if not _TOKEN.fullmatch(method_str) or not (
            self._any_method or method_str in self._methods
        ):
            await _plain_text(send, 400, b"Disallowed CORS method", headers)
            return

        requested: list[str] = []
        if request_headers:
            for item in request_headers.decode("latin-1").split(","):
                name = item.strip().lower()
                if not name:
                    continue
                if not _TOKEN.fullmatch(name) or not (self._any_header or name in self._headers):
                    await _plain_text(send, 400, b"Disallowed CORS headers", headers)
                    return
                requested.append(name)

        allow_origin = b"*" if not self._depends_on_origin else origin.encode("latin-1")
        headers.append((b"access-control-allow-origin", allow_origin))
        headers.extend(self._preflight_headers)
        if self._any_method:
            # Echo rather than "*": the wildcard is ignored by browsers on credentialed requests.
            headers.append((b"access-control-allow-methods", method))
        if requested:
            headers.append((b"access-control-allow-headers", ", ".join(requested).encode()))
        await _plain_text(send, 200, b"OK", headers)

    def _simple_send(self, origin: str, send: Send) -> Send:
        allowed = self.is_allowed_origin(origin)

        async def send_with_cors(message: Message) -> None:
            if message["type"] != "http.response.start":
                await send(message)
                return
            headers = [
                (k, v)
                for k, v in message.get("headers", ())
                # The middleware owns the CORS answer; a stale value from a handler would
                # contradict it or appear twice.
                if not k.lower().startswith(b"access-control-")
            ]
            if allowed:
                value = origin.encode("latin-1") if self._depends_on_origin else b"*"
                headers.append((b"access-control-allow-origin", value))
                headers.extend(self._simple_headers)
            if self._depends_on_origin:
                # Also on refusals: a shared cache must not reuse either answer for another origin.
                _add_vary(headers, b"Origin")
            await send({**message, "headers": headers})

        return send_with_cors


def _add_vary(headers: list[tuple[bytes, bytes]], token: bytes) -> None:
    """Add `token` to the response's Vary header in place, unless it is already covered."""
    wanted = token.lower()
    first_vary = -1
    for index, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            tokens = {t.strip().lower() for t in value.split(b",")}
            if wanted in tokens or b"*" in tokens:
                return
            if first_vary < 0:
                first_vary = index
    if first_vary < 0:
        headers.append((b"vary", token))
    else:
        key, value = headers[first_vary]
        headers[first_vary] = (key, value + b", " + token if value.strip() else token)


async def _plain_text(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
) -> None:
    headers.append(_PLAIN_TEXT)
    headers.append((b"content-length", str(len(body)).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
