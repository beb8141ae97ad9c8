"""HTTPS redirect: send every plain-HTTP or plain-WebSocket client to the secure scheme."""

from __future__ import annotations

import re
from urllib.parse import quote

from ..core.types import ASGIApp, Receive, Scope, Send

__all__ = ["HTTPSRedirectMiddleware"]

_SECURE = {"http": "https", "ws": "wss"}
_DEFAULT_PORTS = frozenset({"80", "443"})
# A host (name, IPv4 or bracketed IPv6) with an optional numeric port, and nothing else,
# so a hostile Host header cannot smuggle CR/LF, userinfo or a path into Location.
_HOST_SYNTAX = re.compile(r"(?P<host>[A-Za-z0-9._-]+|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?")
# Characters left as they are in a Location path: everything RFC 3986 allows in a path
# (including existing %-escapes); anything else is percent-encoded.
_PATH_SAFE = "/%:@!$&'()*+,;=-._~"
_MAX_HOST_LENGTH = 253 + len(":65535")
_PLAIN_TEXT = (b"content-type", b"text/plain; charset=utf-8")
# 1008 is "policy violation"; servers turn a close before accept into HTTP 403.
_WS_POLICY_VIOLATION = 1008


def _request_target(scope: Scope) -> str:
    """The path and query of the request, percent-encoded so it is safe in a header."""
    raw_path = scope.get("raw_path")
    if raw_path:
        # raw_path is bytes as received: quote the bytes, never a re-decoded string.
        path = quote(raw_path, safe=_PATH_SAFE)
    else:
        path = scope["path"]
        root_path = scope.get("root_path", "")
        if root_path and not path.startswith(root_path):
            # Servers differ on whether `path` already includes `root_path`.
            path = root_path + path
        path = quote(path, safe=_PATH_SAFE)
    query: bytes = scope.get("query_string", b"")
    if query:
        # Query bytes are forwarded as received; quote anything not allowed in a URL.
        path += "?" + quote(query, safe=_PATH_SAFE + "?")
    return path


def _parse_host(value: str) -> re.Match[str] | None:
    """Match a Host value against the host[:port] grammar; None when it is not one."""
    # DNS names stop at 253 characters; anything longer is an attack, not a site.
    if len(value) > _MAX_HOST_LENGTH:
        return None
    return _HOST_SYNTAX.fullmatch(value)


def _host_header(scope: Scope) -> bytes | None:
    """The Host header of the request: None if missing, b"" (never valid) if sent twice."""
    found: bytes | None = None
    for key, value in scope["headers"]:
        if key == b"host":
            if found is not None:
                # RFC 9112 says to answer 400: two hosts leave no honest choice.
                return b""
            found = value
    return found


async def _send_plain_text(send: Send, status: int, body: bytes) -> None:
    """Answer with a short text/plain body (errors raised before any handler runs)."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [_PLAIN_TEXT, (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _send_redirect(scope: Scope, send: Send, status: int, location: str) -> None:
    """Redirect an HTTP request, or refuse a WebSocket the server cannot redirect."""
    headers = [(b"location", location.encode("latin-1")), (b"content-length", b"0")]
    if scope["type"] == "http":
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
    elif "websocket.http.response" in scope.get("extensions", {}):
        await send({"type": "websocket.http.response.start", "status": status, "headers": headers})
        await send({"type": "websocket.http.response.body", "body": b""})
    else:
        await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})


class HTTPSRedirectMiddleware:
    """Redirects http:// to https:// and ws:// to wss:// with 308, keeping path and query."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        secure_scheme = _SECURE.get(scope.get("scheme", ""))
        if secure_scheme is None or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        match = None
        host = _host_header(scope)
        if host is not None:
            match = _parse_host(host.decode("latin-1"))
        if match is None:
            server = scope.get("server")
            if host is None and server:
                # HTTP/1.0 clients may omit Host; the address the server listens on is
                # the best remaining answer.
                name = f"[{server[0]}]" if ":" in str(server[0]) else str(server[0])
                server_port = server[1]
                address = name if server_port is None else f"{name}:{server_port}"
                match = _parse_host(address)
        if match is None:
            if scope["type"] == "http":
                await _send_plain_text(send, 400, b"Invalid host header")
            else:
                await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})
            return

        netloc = match["host"]
        port = match["port"]
        if port is not None and port not in _DEFAULT_PORTS:
            netloc += f":{port}"
        location = f"{secure_scheme}://{netloc}{_request_target(scope)}"
        # 308, not 301: clients must repeat the same method and body at the new address.
        await _send_redirect(scope, send, 308, location)
