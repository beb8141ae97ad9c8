"""Cross-site request forgery protection, on by default wherever sessions are.

A request that carries the session cookie and uses an unsafe method (POST, PUT, PATCH, DELETE)
must prove it comes from the site itself: it sends back a token tied to the session, in the
`csrf_token` form field or the `X-CSRF-Token` header, and, from a browser, an Origin (or, over
HTTPS, a Referer) naming this site. Requests without the session cookie (API clients with
bearer tokens) carry no ambient authority: only a form body posted from another site is refused
for them, as it could plant a session of the attacker's (login CSRF).

Templates get `csrf_token()` and `csrf_input()`; handlers call `csrf_token(request)`. Each token
is masked with fresh random bytes, so it differs on every page (no BREACH-style guessing
through compressed responses) while the secret in the session stays the same.
"""

from __future__ import annotations

import base64
import hmac
import secrets
from collections.abc import Callable, Sequence
from typing import Any, TypeVar
from urllib.parse import urlsplit

from .core.connection import HTTPConnection
from .core.errors import HTTPError
from .core.forms import is_form_media
from .core.requests import Request, raw_header
from .core.routing import Route
from .core.scope import ScopeKey
from .core.types import Scope

__all__ = [
    "CSRF_EXEMPT",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "SAFE_METHODS",
    "CSRFCheck",
    "csrf_exempt",
    "csrf_input",
    "csrf_token",
]

CSRF_EXEMPT = "csrf_exempt"
"""The route option that turns the check off: `@app.post(path, opts={"csrf_exempt": True})`."""
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
SESSION_KEY = "_csrf"
SESSION_COOKIE: ScopeKey[bool] = ScopeKey(
    "brace.session_cookie", "the request came with a session cookie (set by SessionMiddleware)"
)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
_SECRET_BYTES = 32

F = TypeVar("F", bound=Callable[..., Any])


_exempt_handlers: set[Any] = set()


def csrf_exempt(handler: F) -> F:
    """Turn the CSRF check off for one handler (webhooks signed another way, for example);
    the same as declaring the route with `opts={"csrf_exempt": True}`."""
    _exempt_handlers.add(handler)
    return handler


def is_exempt(route: Route) -> bool:
    """Whether `route` opted out of the CSRF check (`@csrf_exempt` or its opts)."""
    return bool(route.opts.get(CSRF_EXEMPT)) or route.endpoint in _exempt_handlers


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes | None:
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (ValueError, TypeError):
        return None


def _xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))


def _session_of(request: Request) -> Any:
    try:
        return request.session
    except RuntimeError:
        raise RuntimeError(
            "csrf_token() needs sessions: app.add_middleware(SessionMiddleware, secret_key=...)"
        ) from None


def csrf_token(request: Request) -> str:
    """A token for a form or an `X-CSRF-Token` header, valid for this session."""
    session = _session_of(request)
    secret = _unb64(session.get(SESSION_KEY) or "")
    if secret is None or len(secret) != _SECRET_BYTES:
        secret = secrets.token_bytes(_SECRET_BYTES)
        session[SESSION_KEY] = _b64(secret)
    mask = secrets.token_bytes(_SECRET_BYTES)
    return _b64(mask + _xor(mask, secret))


def csrf_input(request: Request) -> str:
    """A hidden input carrying the token (escaping is not needed: the token is base64url)."""
    return f'<input type="hidden" name="{CSRF_FIELD}" value="{csrf_token(request)}">'


def _token_matches(token: str, stored: str) -> bool:
    raw = _unb64(token) if len(token) < 200 else None
    secret = _unb64(stored)
    if raw is None or secret is None or len(raw) != 2 * _SECRET_BYTES:
        return False
    unmasked = _xor(raw[:_SECRET_BYTES], raw[_SECRET_BYTES:])
    return hmac.compare_digest(unmasked, secret)


def _origin_of(url: str) -> str | None:
    parts = urlsplit(url)
    if not parts.scheme or not parts.netloc:
        return None
    return f"{parts.scheme}://{parts.netloc}".lower()


class CSRFCheck:
    """The check `SessionMiddleware` arms for requests that carry its cookie."""

    def __init__(self, trusted_origins: Sequence[str] = ()) -> None:
        self.trusted_origins = {origin.rstrip("/").lower() for origin in trusted_origins}

    async def before_handler(self, connection: HTTPConnection, route: Route) -> None:
        """The check itself, run after routing (so exempt routes are known): unsafe requests
        must prove they come from this site; WebSocket handshakes carrying the session cookie
        must come from this site's pages."""
        scope = connection.scope
        if is_exempt(route):
            return
        if scope["type"] == "websocket":
            if SESSION_COOKIE in scope and not self.websocket_origin_ok(scope):
                # A page on another site opening a socket with the user's session cookie.
                raise HTTPError(403, "origin", title="Forbidden")
            return
        if scope["method"] not in SAFE_METHODS and isinstance(connection, Request):
            await self.verify(connection, SESSION_COOKIE in scope)

    async def verify(self, request: Request, has_session: bool = True) -> None:
        """Return when the request may proceed; raise a 403 HTTPError naming why not."""
        if not has_session:
            # No session cookie came (SameSite keeps it home on cross-site posts), so there is
            # no token to check; still refuse what only a forged form could be: a form body
            # sent from another site, which would otherwise plant a session (login CSRF).
            if self._cross_site(request) and _form_like(request):
                raise _refused("a form was posted from another site")
            return
        self._check_origin(request)
        stored = request.session.get(SESSION_KEY)
        token = request.headers.get(CSRF_HEADER)
        if token is None and is_form_media(request.headers.get("content-type", "")):
            if not isinstance(stored, str):
                # No token was ever issued to this session (a junk or expired cookie): no
                # form could carry a valid one, so the body is not read at all.
                raise _refused("the session has no CSRF token; reload the page")
            value = (await request.form()).get(CSRF_FIELD)
            token = value if isinstance(value, str) else None
        if not token:
            raise _refused("the CSRF token is missing (send the csrf_token field or header)")
        if not isinstance(stored, str) or not _token_matches(token, stored):
            raise _refused("the CSRF token is invalid or the session has expired; reload the page")

    def websocket_origin_ok(self, scope: Scope) -> bool:
        """Whether a WebSocket handshake that carries the session cookie comes from this site
        (or a trusted origin). Browsers always send Origin on WebSocket handshakes; clients
        that send none are not browsers and carry the cookie on purpose."""
        origin = raw_header(scope, b"origin")
        return origin is None or self._allowed(origin.decode("latin-1"), scope)

    def _allowed(self, origin: str, scope: Scope) -> bool:
        """`origin` is this site's own or one of the trusted origins."""
        folded = origin.lower()
        return folded == _own_origin(scope) or folded.rstrip("/") in self.trusted_origins

    def _cross_site(self, request: Request) -> bool:
        if request.headers.get("sec-fetch-site") == "cross-site":
            return True
        origin = request.headers.get("origin")
        return origin is not None and not self._allowed(origin, request.scope)

    def _check_origin(self, request: Request) -> None:
        scheme = request.scope.get("scheme", "http")
        origin = request.headers.get("origin")
        if origin is not None:
            if not self._allowed(origin, request.scope):
                raise _refused(f"the request comes from another site ({origin[:100]})")
            return
        if scheme != "https":
            return  # plain HTTP: a Referer proves little; the token still has to match
        referer = request.headers.get("referer")
        if not referer:
            raise _refused("an HTTPS request without Origin must send a Referer")
        referer_origin = _origin_of(referer)
        if referer_origin is None or not self._allowed(referer_origin, request.scope):
            raise _refused("the Referer names another site")


def _own_origin(scope: Scope) -> str | None:
    """This site as an Origin header names it (`wss` handshakes come from `https` pages)."""
    host = raw_header(scope, b"host")
    if host is None:
        return None
    scheme = {"wss": "https", "ws": "http"}.get(scope.get("scheme", "http"), scope.get("scheme"))
    return f"{scheme}://{host.decode('latin-1')}".lower()


def _form_like(request: Request) -> bool:
    """A body an HTML form on any site can send without asking (no CORS preflight)."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media in ("", "text/plain") or is_form_media(media)


def _refused(reason: str) -> HTTPError:
    return HTTPError(403, f"CSRF check failed: {reason}.", title="Forbidden")
