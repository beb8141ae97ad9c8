"""Trusted hosts: refuse requests whose Host header names a site this app does not serve."""

from __future__ import annotations

from collections.abc import Sequence

from ..core.types import ASGIApp, Receive, Scope, Send
from .https_redirect import (
    _host_header,
    _parse_host,
    _request_target,
    _send_plain_text,
    _send_redirect,
)

__all__ = ["TrustedHostMiddleware"]

_WS_POLICY_VIOLATION = 1008


class TrustedHostMiddleware:
    """Answers 400 unless the Host header matches `allowed_hosts` ("*.example.com" allowed)."""

    def __init__(
        self,
        app: ASGIApp,
        allowed_hosts: Sequence[str] = ("*",),
        www_redirect: bool = True,
    ) -> None:
        if isinstance(allowed_hosts, str):
            raise TypeError("TrustedHostMiddleware: allowed_hosts must be a list, not a str")
        exact: set[str] = set()
        suffixes: list[str] = []
        allow_any = False
        for pattern in allowed_hosts:
            host = pattern.lower()
            if host == "*":
                allow_any = True
                continue
            wildcard = host.startswith("*.")
            if wildcard:
                host = host[2:]
            match = _parse_host(host)
            if match is None or match["port"] is not None or "*" in host:
                raise ValueError(
                    f"TrustedHostMiddleware: {pattern!r} is not a host name or '*.domain' "
                    "pattern (ports are ignored, leave them out)"
                )
            if wildcard:
                # The leading dot keeps "*.example.com" from matching "badexample.com".
                suffixes.append("." + host)
            else:
                exact.add(host)
        self.app = app
        self.www_redirect = www_redirect
        self._allow_any = allow_any
        self._exact = frozenset(exact)
        self._suffixes = tuple(suffixes)

    def is_allowed_host(self, host: str) -> bool:
        """Whether `host` (lower case, without port) may be served."""
        return self._allow_any or host in self._exact or host.endswith(self._suffixes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self._allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return

        host = port = None
        raw = _host_header(scope)
        if raw is not None:
            match = _parse_host(raw.decode("latin-1"))
            if match is not None:
                host = match["host"].lower()
                port = match["port"]
        if host is not None and self.is_allowed_host(host):
            await self.app(scope, receive, send)
            return

        if (
            self.www_redirect
            and host is not None
            and not host.startswith("www.")
            and f"www.{host}" in self._exact
        ):
            netloc = f"www.{host}:{port}" if port else f"www.{host}"
            location = f"{scope.get('scheme', 'http')}://{netloc}{_request_target(scope)}"
            await _send_redirect(scope, send, 308, location)
        elif scope["type"] == "http":
            await _send_plain_text(send, 400, b"Invalid host header")
        else:
            await send({"type": "websocket.close", "code": _WS_POLICY_VIOLATION})
