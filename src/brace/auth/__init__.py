"""brace.auth: users, passwords, session logins, permissions.

    from brace.auth import Auth, CurrentUser, auth_views, login_required, requires

    auth = Auth(app)                          # after Database(app=...) and SessionMiddleware
    app.include(auth_views(templates))        # /auth/login, /auth/logout

    @app.get("/account", dependencies=[login_required])
    async def account(user: CurrentUser) -> ...

Needs the `auth` extra (`pip install "brace[auth]"`: argon2-cffi, PyJWT).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from ..core.markers import Depends
from ._core import (
    Auth,
    Forbidden,
    NotAuthenticated,
    authenticate,
    current_user,
    login,
    login_required,
    logout,
    normalize_email,
    require_user,
    requires,
    revoke_access_tokens,
    safe_next,
    same_email,
)
from ._passwords import (
    MIN_LENGTH,
    PasswordRejected,
    check_password_rules,
    hash_password,
    verify_password,
)
from ._template_user import user_context
from ._throttle import MemoryThrottleStore, RedisThrottleStore, Throttle

if TYPE_CHECKING:
    from ._mixin import UserMixin
    from ._views import LoginForm, auth_views
    from .models import Group, User

__all__ = [
    "MIN_LENGTH",
    "Auth",
    "CurrentUser",
    "Forbidden",
    "Group",
    "LoginForm",
    "MemoryThrottleStore",
    "NotAuthenticated",
    "PasswordRejected",
    "RedisThrottleStore",
    "RequireUser",
    "Throttle",
    "User",
    "UserMixin",
    "auth_views",
    "authenticate",
    "check_password_rules",
    "current_user",
    "hash_password",
    "login",
    "login_required",
    "logout",
    "normalize_email",
    "require_user",
    "requires",
    "revoke_access_tokens",
    "safe_next",
    "same_email",
    "user_context",
    "verify_password",
]

CurrentUser = Annotated[Any, Depends(current_user)]
"""The logged-in user or None."""

RequireUser = Annotated[Any, Depends(require_user)]
"""The logged-in user; anonymous requests get the login page (browsers) or a 401."""


def __getattr__(name: str) -> Any:
    # The models create tables when imported: only on first use, so a project with its own
    # user model never registers brace's.
    if name == "UserMixin":  # defines no table
        from ._mixin import UserMixin

        return UserMixin
    if name in ("User", "Group"):
        from . import models

        return getattr(models, name)
    if name in ("auth_views", "LoginForm"):
        # The pages need Jinja2; an API-only app (bearer tokens) needs only `brace[auth]`.
        try:
            from . import _views
        except ImportError as exc:
            raise ImportError(
                f'brace.auth.{name} renders pages with Jinja2: pip install "brace[templates]" '
                f"({exc})"
            ) from exc
        return getattr(_views, name)
    raise AttributeError(f"module 'brace.auth' has no attribute {name!r}")
