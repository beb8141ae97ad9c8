"""brace.auth served by several uvicorn worker processes (test_auth_throttle_redis.py).

uvicorn builds the app with `--factory auth_served_app:create_app` from environment variables:
BRACE_AUTH_TEST_DB (a SQLite file every process shares, seeded once beforehand with `seed`)
and BRACE_AUTH_TEST_REDIS (the Redis URL of the login throttle's counters).
"""

from __future__ import annotations

import os
from collections.abc import Iterable

from brace import App
from brace.auth import Auth, RequireUser, Throttle, auth_views
from brace.auth.tokens import JWTTokens, enable_tokens
from brace.db import Database
from brace.sessions import SessionMiddleware

SECRET = "a-secret-shared-by-every-worker-process"
JWT_SECRET = "a-jwt-secret-shared-by-every-worker-32+"
PASSWORD = "correct horse battery staple"


def database_url(path: str | os.PathLike[str]) -> str:
    return f"sqlite+aiosqlite:///{os.fspath(path)}"


def create_app() -> App:
    """One worker's app: users from the shared file, throttle counters in Redis."""
    app = App(title="Auth workers")
    app.add_middleware(SessionMiddleware, secret_key=SECRET, https_only=False)
    Database(database_url(os.environ["BRACE_AUTH_TEST_DB"]), app=app)
    Auth(app, throttle=Throttle(os.environ["BRACE_AUTH_TEST_REDIS"], limit=10, window=60))
    app.include(auth_views())
    enable_tokens(app, JWTTokens(secret=JWT_SECRET, lifetime=300))

    @app.get("/worker")
    async def worker() -> dict[str, int]:
        """Which process answered."""
        return {"pid": os.getpid()}

    @app.get("/me")
    async def me(user: RequireUser) -> dict[str, str]:
        return {"email": user.email}

    return app


async def seed(path: str | os.PathLike[str], emails: Iterable[str]) -> None:
    """Create the tables in the shared file and one user per email (password PASSWORD)."""
    from brace.auth import User

    db = Database(database_url(path))
    try:
        await db.create_all()
        async with db.session() as session:
            for email in emails:
                user = User(email=email)
                user.set_password(PASSWORD)
                session.add(user)
            await session.commit()
    finally:
        await db.dispose()
