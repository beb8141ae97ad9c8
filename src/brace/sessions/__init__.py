"""Sessions: `request.session`, kept in a signed cookie (default), in memory, or in Redis.

`app.add_middleware(SessionMiddleware, secret_key="...")`. Tampered, expired or unreadable
cookies give an empty session, never an error.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from ..core.requests import raw_header
from ..core.responses import cookie_header
from ..core.scope import BEFORE_HANDLER
from ..core.types import ASGIApp, Message, Receive, Scope, Send
from ..csrf import SAFE_METHODS, SESSION_COOKIE, CSRFCheck
from ._backends import SessionBackend, backend_for
from ._flash import flash, get_flashed_messages
from ._session import Session, new_session_id
from ._signing import Signer

__all__ = [
    "Session",
    "SessionBackend",
    "SessionMiddleware",
    "Signer",
    "flash",
    "get_flashed_messages",
]


def _cookie_value(scope: Scope, name: str) -> str | None:
    header = raw_header(scope, b"cookie")
    if header is None:
        return None
    prefix = name + "="
    for part in header.decode("latin-1").split(";"):
        part = part.strip()
        if part.startswith(prefix):
            return part[len(prefix) :].strip('"')
    return None


class SessionMiddleware:
    """Loads the session before the app runs and saves it when the response starts."""

    def __init__(
        self,
        app: ASGIApp,
        secret_key: str | Sequence[str],
        *,
        backend: str = "cookie",
        cookie_name: str = "session",
        max_age: int = 14 * 24 * 3600,
        path: str = "/",
        domain: str | None = None,
        same_site: Literal["lax", "strict", "none"] = "lax",
        https_only: bool | None = None,
        max_cookie_size: int = 4000,
        csrf: bool = True,
        csrf_trusted_origins: Sequence[str] = (),
    ) -> None:
        """`secret_key` may be a list: the first signs, all verify (key rotation).
        `https_only=None` marks the cookie Secure unless the app runs in debug mode.
        `csrf=True` checks unsafe requests that carry the session cookie (see brace.csrf);
        `csrf_trusted_origins` lists other origins allowed to post ("https://admin.example")."""
        self.app = app
        self.csrf = CSRFCheck(csrf_trusted_origins) if csrf else None
        self._csrf_hook = (self.csrf.before_handler,) if self.csrf is not None else ()
        self.signer = Signer(secret_key)
        self.backend = backend_for(backend, self.signer, max_age)
        # Whether clearing a session ends it for every copy of its cookie (server-side data).
        self._revocable = bool(getattr(self.backend, "revocable", False))
        self.cookie_name = cookie_name
        self.max_age = max_age
        self.path = path
        self.domain = domain
        self.same_site = same_site
        self.https_only = https_only
        self.max_cookie_size = max_cookie_size

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self.app(scope, receive, self._closing_on_shutdown(send))
            return
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        cookie = _cookie_value(scope, self.cookie_name)
        loaded = await self.backend.load(cookie) if cookie else None
        revocable = self._revocable
        session = (
            Session(loaded[1], loaded[0], revocable=revocable)
            if loaded
            else Session(revocable=revocable)
        )
        had_cookie = cookie is not None
        scope["session"] = session
        if had_cookie:
            scope[SESSION_COOKIE] = True
        if self.csrf is not None and (
            scope["method"] not in SAFE_METHODS if scope["type"] == "http" else had_cookie
        ):
            # Checked by the brace app that routes the request, once the route is known;
            # safe methods and cookie-less handshakes have nothing to check.
            hooks = scope.get(BEFORE_HANDLER)
            scope[BEFORE_HANDLER] = self._csrf_hook if hooks is None else (*hooks, *self._csrf_hook)

        async def send_with_cookie(message: Message) -> None:
            if message["type"] == "http.response.start" and session.modified:
                header = await self._cookie_for(scope, session, had_cookie)
                if header is not None:
                    message = {**message, "headers": [*message.get("headers", ()), header]}
            await send(message)

        await self.app(scope, receive, send_with_cookie)

    def _closing_on_shutdown(self, send: Send) -> Send:
        """Close the backend's connections (Redis) once the app has shut down."""

        async def send_and_close(message: Message) -> None:
            if message["type"] in ("lifespan.shutdown.complete", "lifespan.shutdown.failed"):
                await self.backend.close()
            await send(message)

        return send_and_close

    async def _cookie_for(
        self, scope: Scope, session: Session, had_cookie: bool
    ) -> tuple[bytes, bytes] | None:
        if session.replaced_id is not None:
            await self.backend.delete(session.replaced_id)
        debug = bool(getattr(scope.get("app"), "debug", False))
        secure = self.https_only
        options: dict[str, Any] = {
            "path": self.path,
            "domain": self.domain,
            "secure": secure,
            "samesite": self.same_site,
            "debug": debug,
        }
        if not session:
            if session.id is not None:
                await self.backend.delete(session.id)
            if not had_cookie:
                return None
            return b"set-cookie", cookie_header(
                self.cookie_name, "", max_age=0, expires=0, **options
            )
        if session.id is None:
            session.id = new_session_id()
        value = await self.backend.save(session.id, dict(session))
        if len(value) > self.max_cookie_size:
            raise ValueError(
                f"the session cookie would be {len(value)} bytes, over the "
                f"{self.max_cookie_size}-byte limit browsers keep: store less in the session, "
                "or use a server-side backend (memory, redis://)"
            )
        return b"set-cookie", cookie_header(
            self.cookie_name, value, max_age=self.max_age, **options
        )
