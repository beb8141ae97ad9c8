"""Request IDs: tag each request with an id that appears in logs and in the response."""

from __future__ import annotations

import re
import uuid

from ..core.scope import REQUEST_ID
from ..core.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SCOPE_KEY", "RequestIDMiddleware"]

SCOPE_KEY = REQUEST_ID
"""Where the id is stored in the ASGI scope (`brace.core.scope.REQUEST_ID`)."""

# Incoming ids end up in log lines and response headers, so only a short, inert alphabet is
# trusted: no spaces, quotes, angle brackets or CR/LF that could forge log entries or headers.
_SAFE_ID = re.compile(rb"[A-Za-z0-9._-]{1,128}")
_HTTP_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")


class RequestIDMiddleware:
    """Reuses a well-formed incoming request id or makes one, and echoes it in the response."""

    def __init__(
        self,
        app: ASGIApp,
        header_name: str = "X-Request-ID",
        trust_incoming: bool = True,
    ) -> None:
        if not _HTTP_TOKEN.fullmatch(header_name):
            raise ValueError(f"RequestIDMiddleware: {header_name!r} is not a valid header name")
        self.app = app
        self.header_name = header_name
        self.trust_incoming = trust_incoming
        self._raw_name = header_name.lower().encode("latin-1")

    def _incoming(self, scope: Scope) -> str | None:
        for key, value in scope["headers"]:
            if key == self._raw_name:
                # Only the first value counts: a second copy is an injection attempt or a
                # proxy bug, and neither should pick the id.
                return value.decode("ascii") if _SAFE_ID.fullmatch(value) else None
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        scope_type = scope["type"]
        if scope_type != "http" and scope_type != "websocket":
            await self.app(scope, receive, send)
            return

        request_id = self._incoming(scope) if self.trust_incoming else None
        if request_id is None:
            request_id = uuid.uuid4().hex
        # Set on the shared scope dict (not a copy) so outer layers such as the core's error
        # handler see the id too.
        scope[SCOPE_KEY] = request_id
        header = (self._raw_name, request_id.encode("ascii"))
        raw_name = self._raw_name

        async def send_with_id(message: Message) -> None:
            # websocket.accept carries response headers too, so the handshake gets the id.
            if message["type"] in ("http.response.start", "websocket.accept"):
                headers = list(message.get("headers", ()))
                if not any(key.lower() == raw_name for key, _ in headers):
                    headers.append(header)
                    message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_id)
