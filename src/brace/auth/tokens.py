"""Bearer tokens for APIs: signed JWTs (PyJWT) and revocable opaque tokens kept in the database,
plus the OAuth2 password-flow endpoint that hands them out (and makes `/docs`' Authorize work).

    jwt = JWTTokens(secret="...")            # or RS256 keys, see JWTTokens
    auth.use_jwt(jwt)                        # `Authorization: Bearer <jwt>` logs users in
    app.include(token_endpoint(jwt))         # POST /auth/token (OAuth2 password flow)
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Annotated, Any

import jwt as pyjwt
import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..core.markers import Form
from ..core.requests import Request
from ..core.responses import JSONResponse, Response
from ..csrf import csrf_exempt
from ..db import DB
from ..openapi import add_security_scheme
from ._core import Auth, authenticate

if TYPE_CHECKING:
    from ..core.app import App

__all__ = [  # noqa: F822 - AccessToken comes from __getattr__, with the user model
    "OPAQUE_PREFIX",
    "AccessToken",
    "JWTTokens",
    "TokenResponse",
    "create_access_token",
    "enable_tokens",
    "issue_for",
    "revoke_access_token",
]

OPAQUE_PREFIX = "brace_"
SCHEME_NAME = "OAuth2PasswordBearer"
_HMAC_ALGORITHMS = ("HS256", "HS384", "HS512")
_RSA_ALGORITHMS = ("RS256", "RS384", "RS512")


class JWTTokens:
    """Issue and verify JWTs. One algorithm per instance, chosen by the server, never by the
    token: `alg: none`, and an HS256 token signed with an RS256 public key (algorithm
    confusion), are refused.

    Keys rotate: `keys={"2026-11": new, "2026-05": old}` signs with the first and verifies
    with whichever `kid` the token names. HS256 keys are secrets (32+ bytes); RS256 takes
    `private_key` (PEM) to sign and `keys` of public PEMs to verify.
    """

    def __init__(
        self,
        secret: str | None = None,
        *,
        keys: Mapping[str, str] | None = None,
        private_key: str | None = None,
        algorithm: str = "HS256",
        lifetime: int = 3600,
        audience: str | None = None,
        issuer: str | None = None,
        leeway: int = 0,
    ) -> None:
        if algorithm not in (*_HMAC_ALGORITHMS, *_RSA_ALGORITHMS):
            raise ValueError(f"unsupported JWT algorithm {algorithm!r}")
        if secret is not None:
            keys = {"default": secret, **(keys or {})}
        if not keys:
            raise ValueError("JWTTokens needs a secret or keys")
        if algorithm in _HMAC_ALGORITHMS:
            for kid, key in keys.items():
                if len(key.encode()) < 32:
                    raise ValueError(f"JWT key {kid!r} is shorter than 32 bytes")
                if "PUBLIC KEY" in key or "PRIVATE KEY" in key:
                    raise ValueError(f"JWT key {kid!r} is a PEM key: HS algorithms take secrets")
        elif private_key is None:
            raise ValueError(f"{algorithm} needs private_key= to sign")
        self.algorithm = algorithm
        self.keys = dict(keys)
        self.signing_kid = next(iter(self.keys))
        self.private_key = private_key
        self.lifetime = lifetime
        self.audience = audience
        self.issuer = issuer
        self.leeway = leeway
        self.auth: Auth | None = None
        """The Auth these tokens log users in to (set by `enable_tokens`)."""

    def issue(self, subject: Any, *, claims: Mapping[str, Any] | None = None) -> str:
        """A token for `subject`, valid for `lifetime` seconds from now.

        Once `enable_tokens(app, tokens)` has run, pass the user: the token is then bound to
        their password (a new password ends it) and `RequireUser` accepts it. A bare id is
        refused there, since such a token would be refused at every request; tokens not
        tied to an app's users take any subject text."""
        extra = dict(claims or {})
        if not isinstance(subject, str):
            if self.auth is None:
                raise TypeError(
                    "JWTTokens.issue(user) binds the token to the user's password: call "
                    "enable_tokens(app, tokens) first (or pass a subject string)"
                )
            extra.setdefault("pwh", self.auth.password_fingerprint(subject)[:16])
            subject = str(subject.id)
        elif self.auth is not None and "pwh" not in extra:
            raise TypeError(
                "these tokens log users in (enable_tokens): issue them with tokens.issue(user), "
                "not a user id, or RequireUser refuses them (they must follow password changes)"
            )
        now = datetime.now(UTC)
        payload: dict[str, Any] = {
            "sub": subject,
            "iat": now,
            "nbf": now,
            "exp": now + timedelta(seconds=self.lifetime),
            "jti": uuid.uuid4().hex,
            **extra,
        }
        if self.audience is not None:
            payload["aud"] = self.audience
        if self.issuer is not None:
            payload["iss"] = self.issuer
        key = self.private_key if self.private_key is not None else self.keys[self.signing_kid]
        return pyjwt.encode(
            payload, key, algorithm=self.algorithm, headers={"kid": self.signing_kid}
        )

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a valid token, or None (bad signature, expired, not yet valid, wrong
        audience or issuer, unknown key, other algorithm, malformed)."""
        if len(token) > 8192:
            return None
        try:
            header = pyjwt.get_unverified_header(token)
        except pyjwt.PyJWTError:
            return None
        if header.get("alg") != self.algorithm:
            return None
        kid = header.get("kid")
        candidates = [self.keys[kid]] if kid in self.keys else []
        for key in candidates:
            try:
                claims: dict[str, Any] = pyjwt.decode(
                    token,
                    key,
                    algorithms=[self.algorithm],
                    audience=self.audience,
                    issuer=self.issuer,
                    leeway=self.leeway,
                    options={"require": ["exp", "iat", "sub"]},
                )
            except (pyjwt.PyJWTError, ValueError, TypeError):
                continue
            return claims
        return None


# -- opaque tokens ---------------------------------------------------------------------------------


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


async def create_access_token(
    session: AsyncSession, user: Any, *, label: str = "", lifetime: int | None = None
) -> str:
    """A new opaque token for `user`; returned once, never stored in clear."""
    from .models import AccessToken

    token = OPAQUE_PREFIX + secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(seconds=lifetime) if lifetime else None
    session.add(
        AccessToken(user_id=user.id, token_hash=_digest(token), label=label, expires_at=expires)
    )
    await session.flush()
    return token


async def revoke_access_token(session: AsyncSession, token: str) -> bool:
    """Revoke a token (it stops working at once); False when no such live token exists."""
    from .models import AccessToken

    row = await session.scalar(select(AccessToken).where(AccessToken.token_hash == _digest(token)))
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = datetime.now(UTC)
    await session.flush()
    return True


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def opaque_authenticator(auth: Auth) -> Any:
    from .models import AccessToken

    async def from_opaque(session: AsyncSession, token: str) -> Any:
        if not token.startswith(OPAQUE_PREFIX) or len(token) > 200:
            return None
        row = await session.scalar(
            select(AccessToken).where(AccessToken.token_hash == _digest(token))
        )
        if row is None or row.revoked_at is not None:
            return None
        if row.expires_at is not None and _aware(row.expires_at) <= datetime.now(UTC):
            return None
        return await auth.load_user(session, row.user_id)

    return from_opaque


def jwt_authenticator(auth: Auth, tokens: JWTTokens) -> Any:
    async def from_jwt(session: AsyncSession, token: str) -> Any:
        if token.count(".") != 2:
            return None
        claims = tokens.verify(token)
        if claims is None:
            return None
        user = await auth.load_user(session, claims.get("sub"))
        if user is None or claims.get("pwh") != auth.password_fingerprint(user)[:16]:
            return None  # the password changed since the token was issued
        return user

    return from_jwt


def issue_for(auth: Auth, tokens: JWTTokens, user: Any) -> str:
    """A JWT for `user` that stops verifying when the user's password changes (the same as
    `tokens.issue(user)` once the tokens are enabled)."""
    return tokens.issue(str(user.id), claims={"pwh": auth.password_fingerprint(user)[:16]})


# -- the OAuth2 password flow ------------------------------------------------------------------


class OAuthError(msgspec.Struct):
    """RFC 6749 5.2: how the token endpoint says no."""

    error: str
    error_description: str


class TokenResponse(msgspec.Struct):
    access_token: str
    token_type: str
    expires_in: int | None = None


def enable_tokens(
    app: App,
    jwt: JWTTokens | None = None,
    *,
    token_url: str | None = "/auth/token",
    opaque_lifetime: int | None = 30 * 24 * 3600,
    scheme: str = "Bearer",
) -> None:
    """Accept tokens on `app` (JWTs from `jwt`, and opaque `AccessToken`s) in
    `Authorization: <scheme> <token>`, and serve the OAuth2 password flow at `token_url` (None:
    no such endpoint, for apps that issue tokens from their own login): a form with `username`
    and `password` returns a JWT (or, without `jwt`, a new opaque token). OpenAPI documents
    the scheme, so `/docs`' Authorize button works, and protected operations show their
    security requirement."""
    if not scheme or not all(ch.isalnum() or ch in "-._~+" for ch in scheme):
        raise ValueError(f"enable_tokens: {scheme!r} is not an Authorization scheme name")
    auth = Auth.of(app)
    # Opaque tokens are rows pointing at brace's own user table.
    opaque = auth.user_model.__module__ == "brace.auth.models"
    if jwt is None and not opaque:
        raise ValueError("with your own user model, enable_tokens needs jwt=JWTTokens(...)")
    if jwt is not None:
        jwt.auth = auth
        auth.token_authenticators.append(jwt_authenticator(auth, jwt))
    if opaque:
        auth.token_authenticators.append(opaque_authenticator(auth))
    auth.token_scheme = scheme
    described = _security_scheme(scheme, token_url, jwt)
    name = SCHEME_NAME if described["type"] == "oauth2" else f"{scheme}Token"
    add_security_scheme(app, name, described)
    if token_url is not None:
        _add_token_endpoint(app, auth, token_url, jwt, opaque_lifetime)


def _security_scheme(scheme: str, token_url: str | None, jwt: JWTTokens | None) -> dict[str, Any]:
    """How OpenAPI (and the docs' Authorize button) describes the token."""
    if scheme.lower() != "bearer":
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": f"`{scheme} <token>`",
        }
    if token_url is not None:
        return {"type": "oauth2", "flows": {"password": {"tokenUrl": token_url, "scopes": {}}}}
    described: dict[str, Any] = {"type": "http", "scheme": "bearer"}
    if jwt is not None:
        described["bearerFormat"] = "JWT"
    return described


def _add_token_endpoint(
    app: App, auth: Auth, token_url: str, jwt: JWTTokens | None, opaque_lifetime: int | None
) -> None:
    """The OAuth2 password flow: a form with `username` and `password` returns a token."""

    @app.post(
        token_url,
        name="brace_auth_token",
        tags=["auth"],
        responses={
            400: {"description": "Invalid username or password", "model": OAuthError},
            429: "Too many failed logins for this account or client: retry after Retry-After",
        },
    )
    @csrf_exempt  # credentials travel in the body, not in a cookie
    async def issue_token(
        request: Request,
        session: DB,
        username: Annotated[str, Form(max_length=254)],
        password: Annotated[str, Form(max_length=1024)],
        response: Response,
        grant_type: Annotated[str, Form(pattern="^password$")] = "password",
    ) -> TokenResponse:
        """Exchange an email and password for a bearer token (OAuth2 password flow)."""
        # RFC 6749 5.1: a token is never stored by a cache on the way.
        response.headers["cache-control"] = "no-store"
        response.headers["pragma"] = "no-cache"
        user = await authenticate(request, session, username, password)
        if user is None:
            return _oauth_error("invalid_grant", "Invalid username or password.")  # type: ignore[return-value]
        if jwt is not None:
            return TokenResponse(issue_for(auth, jwt, user), "bearer", jwt.lifetime)
        token = await create_access_token(
            session, user, label="token endpoint", lifetime=opaque_lifetime
        )
        return TokenResponse(token, "bearer", opaque_lifetime)


def _oauth_error(code: str, description: str) -> JSONResponse:
    return JSONResponse(
        {"error": code, "error_description": description},
        400,
        headers={"Cache-Control": "no-store"},
    )


def __getattr__(name: str) -> Any:
    if name == "AccessToken":  # defined with the user model it points at
        from .models import AccessToken

        return AccessToken
    raise AttributeError(f"module 'brace.auth.tokens' has no attribute {name!r}")
