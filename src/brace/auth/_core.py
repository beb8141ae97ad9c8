"""Who is making this request: session login and logout, the current-user dependencies, and the
guards that send browsers to the login page and API clients a 401 or 403."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote, urlsplit

from sqlalchemy import inspect as sa_inspect
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from ..config import current_env
from ..core.errors import HTTPError, wants_html
from ..core.markers import Depends
from ..core.requests import Request
from ..core.responses import RedirectResponse
from ..core.scope import ScopeKey
from ..db import DB, Database
from ..mail import ConsoleMailer, Mailer
from ..openapi import declare_security
from ._passwords import dummy_hash, verify_password
from ._throttle import Throttle
from .reset import PasswordResetTokens

if TYPE_CHECKING:
    from ..core.app import App

__all__ = [
    "Auth",
    "Forbidden",
    "NotAuthenticated",
    "authenticate",
    "current_user",
    "login",
    "logout",
    "require_user",
    "requires",
    "safe_next",
]

SESSION_USER = "_auth_user_id"
SESSION_HASH = "_auth_hash"
_EXTENSION_KEY = "brace.auth"
CURRENT_USER: ScopeKey[Any] = ScopeKey("brace.user", "the authenticated user, once looked up")
_UNSET: Any = object()


class NotAuthenticated(HTTPError):
    """No (valid) credentials: browsers go to the login page, API clients get a 401."""

    def __init__(self, detail: str = "Log in to continue.") -> None:
        super().__init__(401, detail, {"WWW-Authenticate": "Bearer"}, title="Unauthorized")


class Forbidden(HTTPError):
    """Logged in, but not allowed."""

    def __init__(self, detail: str = "You do not have permission to do this.") -> None:
        super().__init__(403, detail, title="Forbidden")


class Auth:
    """Authentication for one app: its user model, login page, throttling and secret.

    `Auth(app, user_model=User, secret_key=...)`; needs a brace.db Database on the app and,
    for session logins, `SessionMiddleware`.
    """

    def __init__(
        self,
        app: App | None = None,
        *,
        user_model: type[Any] | None = None,
        secret_key: str | None = None,
        login_url: str = "/auth/login",
        throttle: Throttle | None = None,
        mailer: Mailer | None = None,
        reset_max_age: int = 3600,
    ) -> None:
        if user_model is None:
            from .models import User

            user_model = User
        self.user_model = user_model
        self.secret_key = secret_key
        self.login_url = login_url
        self.throttle = throttle or Throttle()
        self.reset_throttle = Throttle(self.throttle.store, limit=5, window=900, name="reset")
        """Password-reset requests: 5 per address and per client address in 15 minutes."""
        self.mailer: Mailer = mailer or ConsoleMailer()
        self.reset_max_age = reset_max_age
        self.token_authenticators: list[Callable[[AsyncSession, str], Any]] = []
        self.token_scheme = "Bearer"
        """The `Authorization` scheme tokens come with (`enable_tokens(scheme="Token")`)."""
        if app is not None:
            self.install(app)

    def install(self, app: App) -> None:
        """Attach to `app` as a plugin (`Auth(app)` does this)."""
        if _EXTENSION_KEY in app.extensions:
            raise RuntimeError("this app already has an Auth")
        app.extensions[_EXTENSION_KEY] = self
        if self.secret_key is None:
            self.secret_key = _session_secret(app)
        app.install(self)

    def on_app_init(self, app: App) -> None:
        """The plugin hook: unauthenticated page views redirect to the login page, and the
        throttle's store closes when the app stops. Production refuses the console mailer:
        it would write live password-reset links to the logs."""
        if current_env() == "prod":
            _check_production(self, app)
        app.exception_handlers.setdefault(NotAuthenticated, self._not_authenticated)
        app.on_shutdown(self.throttle.store.close)

    @property
    def reset_tokens(self) -> PasswordResetTokens:
        """Signed, expiring, single-use password-reset tokens (see brace.auth.reset)."""
        return PasswordResetTokens(self.secret_key or "", max_age=self.reset_max_age)

    @staticmethod
    def of(app: App) -> Auth:
        try:
            auth: Auth = app.extensions[_EXTENSION_KEY]
        except KeyError:
            raise RuntimeError("this app has no Auth: create one with Auth(app)") from None
        return auth

    async def _not_authenticated(self, request: Request, exc: NotAuthenticated) -> Any:
        if request.method in ("GET", "HEAD") and wants_html(request.headers.get("accept", "")):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            root = request.scope.get("root_path", "")
            return RedirectResponse(f"{root}{self.login_url}?next={quote(target)}", 303)
        exc.headers["WWW-Authenticate"] = self.token_scheme
        raise exc  # problem+json 401 with WWW-Authenticate

    # -- the session's link to a user ---------------------------------------------------------

    def session_hash(self, user: Any) -> str:
        """What a session must still match: the password hash (a new password logs out the
        other sessions) and the user's session version (logging out of a signed cookie, or
        everywhere, moves it on)."""
        version = getattr(user, "session_version", 0) or 0
        # Version 0 keeps the fingerprint sessions had before versions existed.
        return self._fingerprint(
            user.password_hash if not version else f"{user.password_hash}\n{version}"
        )

    def password_fingerprint(self, user: Any) -> str:
        """A fingerprint of the password hash alone: bearer tokens outlive a logout from the
        browser, not a password change."""
        return self._fingerprint(user.password_hash)

    def _fingerprint(self, material: str) -> str:
        key = (self.secret_key or "").encode()
        return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()[:32]

    async def load_user(self, session: AsyncSession, user_id: Any) -> Any:
        """The user with this id (a session value, a token's `sub`: text is converted to the
        key's type), groups loaded; None when no user has it or it cannot be a key."""
        model = self.user_model
        mapper: Any = sa_inspect(model)
        if user_id is None:
            return None
        try:
            user_id = mapper.primary_key[0].type.python_type(user_id)
        except (TypeError, ValueError):
            return None
        statement = select(model).where(model.id == user_id)
        if "groups" in mapper.relationships:
            statement = statement.options(selectinload(model.groups))
        return await session.scalar(statement)


def _check_production(auth: Auth, app: App) -> None:
    """What production refuses: reset links written to the logs, or built from a Host
    header nobody checked."""
    from ..middleware.trusted_host import TrustedHostMiddleware

    if isinstance(auth.mailer, ConsoleMailer):
        raise RuntimeError(
            "Auth(mailer=...) is needed when BRACE_ENV=prod: the console mailer writes "
            "password-reset links to the logs (use SMTPMailer)"
        )
    if not any(middleware is TrustedHostMiddleware for middleware, _ in app.user_middleware):
        raise RuntimeError(
            "Auth needs TrustedHostMiddleware when BRACE_ENV=prod: password-reset links are "
            "built from the request's Host header, which a client chooses. Add "
            "app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)"
        )


def _session_secret(app: App) -> str:
    for _middleware, options in app.user_middleware:
        secret = options.get("secret_key")
        if secret:
            return secret if isinstance(secret, str) else str(next(iter(secret)))
    raise RuntimeError(
        "Auth needs a secret: pass Auth(secret_key=...) or add SessionMiddleware first"
    )


def safe_next(target: str | None, default: str = "/") -> str:
    """`target` when it is a path on this site, else `default`: `next=` must never send a
    freshly logged-in user to another site (`//evil.example`, `https://...`, `/\\evil`)."""
    if not target or not target.startswith("/") or target.startswith(("//", "/\\")):
        return default
    if any(ch in target for ch in "\\\r\n\t") or any(ord(ch) < 32 for ch in target):
        return default
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return default
    return target


async def authenticate(request: Request, session: AsyncSession, account: str, password: str) -> Any:
    """The active user with this email (or username) and password, or None. Throttled per
    account and per client address (429 once blocked); an unknown account costs as much time
    as a wrong password and gets the same None."""
    auth = Auth.of(request.app)
    account = account.strip()  # " ada@example.com" is the same account, and the same counter
    client = request.client[0] if request.client else None
    if not await auth.throttle.attempt(account, client):
        raise HTTPError(
            429,
            "Too many failed logins; try again in a minute.",
            {"Retry-After": str(auth.throttle.window)},
        )
    model = auth.user_model
    field = getattr(model, model.USERNAME_FIELD)
    if model.USERNAME_FIELD == "email":
        user = await session.scalar(select(model).where(same_email(field, account)))
    else:
        user = await session.scalar(select(model).where(field == account))
    stored = user.password_hash if user is not None else dummy_hash()
    ok, rehash = await asyncio.to_thread(verify_password, stored, password)
    if user is None or not ok or not user.is_active:
        return None  # the attempt was counted before the check
    await auth.throttle.succeeded(account, client)
    if rehash:
        await user.aset_password(password)  # parameters changed since: upgrade the stored hash
    return user


async def login(request: Request, user: Any) -> None:
    """Log `user` in for this browser: a new session id (an id planted before login is
    worthless), the user's id in the session, `last_login` updated."""
    auth = Auth.of(request.app)
    session: Any = request.session
    session.rotate()
    session[SESSION_USER] = str(user.id)
    session[SESSION_HASH] = auth.session_hash(user)
    user.last_login = datetime.now(UTC)
    request.scope[CURRENT_USER] = user


async def logout(request: Request, *, everywhere: bool = False) -> None:
    """Forget the user and everything else in the session (the cookie is deleted).

    A signed-cookie session cannot be revoked on its own (a copy of the cookie would still
    open the account), so logging out of one ends every session of the user: their session
    version moves on. Server-side sessions (memory, Redis) end only this one, unless
    `everywhere=True`."""
    session: Any = request.session
    user_id = session.get(SESSION_USER)
    if user_id is not None and (everywhere or not getattr(session, "revocable", False)):
        await _end_sessions(request, user_id)
    session.clear()
    request.scope[CURRENT_USER] = None


async def _end_sessions(request: Request, user_id: Any) -> None:
    """Move the user's session version on, in one UPDATE (no read, no race)."""
    auth = Auth.of(request.app)
    model = auth.user_model
    key_type = sa_inspect(model).primary_key[0].type.python_type
    try:
        key = key_type(user_id)
    except (TypeError, ValueError):
        return  # not a key this table could hold: no user to log out
    statement = (
        update(model)
        .where(model.id == key)
        .values(session_version=model.session_version + 1)
        .execution_options(synchronize_session=False)
    )
    async with Database.of(request.app).session() as db:
        await db.execute(statement)
        await db.commit()


async def current_user(request: Request, session: DB) -> Any:
    """The logged-in user (bearer token or session), or None."""
    cached = request.scope.get(CURRENT_USER, _UNSET)
    if cached is not _UNSET:
        return cached
    auth = Auth.of(request.app)
    user = None
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == auth.token_scheme.lower() and token.strip():
        for authenticator in auth.token_authenticators:
            user = await authenticator(session, token.strip())
            if user is not None:
                break
        if user is None:
            what = "bearer token" if scheme.lower() == "bearer" else "token"
            raise NotAuthenticated(f"The {what} is invalid or expired.")
    elif "session" in request.scope:
        stored: Any = request.session
        user_id = stored.get(SESSION_USER)
        if user_id is not None:
            user = await auth.load_user(session, user_id)
            if user is not None and not hmac.compare_digest(
                str(stored.get(SESSION_HASH, "")), auth.session_hash(user)
            ):
                user = None  # the password changed since this session logged in
    if user is not None and not user.is_active:
        user = None
    request.scope[CURRENT_USER] = user
    return user


declare_security(current_user, "optional")


async def require_user(user: Annotated[Any, Depends(current_user)]) -> Any:
    """The logged-in user, or NotAuthenticated (login page for browsers, 401 for APIs)."""
    if user is None:
        raise NotAuthenticated()
    return user


declare_security(require_user, "required")


def requires(*perms: str, staff: bool = False) -> Depends:
    """A dependency that lets through only users holding every one of `perms` (and staff,
    with `staff=True`): `dependencies=[requires("articles.edit")]` on a route or router, or
    `user: Annotated[User, requires("articles.edit")]` to receive the user."""

    async def permitted(user: Annotated[Any, Depends(require_user)]) -> Any:
        if staff and not (user.is_staff and user.is_active):
            raise Forbidden("Only staff can do this.")
        if perms and not user.has_perm(*perms):
            raise Forbidden()
        return user

    permitted.__qualname__ = f"requires({', '.join(map(repr, perms))})"
    declare_security(permitted, "permission")
    return Depends(permitted)


login_required = Depends(require_user)
"""`dependencies=[login_required]` on a route or router."""


async def revoke_access_tokens(session: AsyncSession, user: Any) -> None:
    """End every opaque bearer token of `user` (a password change calls this: JWTs carry a
    fingerprint of the password hash and stop working by themselves)."""
    if type(user).__module__ != "brace.auth.models":
        return  # opaque tokens exist for brace's own user model only
    from .models import AccessToken

    await session.execute(
        update(AccessToken)
        .where(AccessToken.user_id == user.id, AccessToken.revoked_at.is_(None))
        .values(revoked_at=datetime.now(UTC))
    )


def normalize_email(email: str) -> str:
    """The one spelling brace stores: trimmed and lower-cased, so `Alice@X` and `alice@x`
    are one account (providers treat the local part case-insensitively in practice)."""
    return email.strip().lower()


def same_email(column: Any, email: str) -> Any:
    """A SQL condition matching `email` as brace stores it (normalized), or exactly as typed
    (rows stored before brace normalized addresses); it stays an indexed lookup. Lower-case
    older rows once to match them whatever the case: see docs/auth.md."""
    return column.in_(sorted({normalize_email(email), email.strip()}))
