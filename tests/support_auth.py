"""Auth test support: an app with brace.auth on SQLite or PostgreSQL, users seeded, and
helpers to log in. tests/auth/conftest.py registers the fixtures."""

import re
from collections.abc import Iterator
from typing import Annotated, Any

import pytest

from brace import App, Request, Router
from brace.auth import (
    Auth,
    CurrentUser,
    RequireUser,
    Throttle,
    auth_views,
    login_required,
    logout,
    requires,
)
from brace.auth.tokens import JWTTokens, enable_tokens
from brace.db import DB, Database
from brace.sessions import SessionMiddleware
from brace.testing import TestClient

SECRET = "an-auth-test-secret-that-is-long-enough"
PASSWORD = "correct horse battery staple"
JWT_SECRET = "a-jwt-secret-of-at-least-thirty-two-bytes"
TOKEN_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


def make_app(
    url: str,
    *,
    throttle: Throttle | None = None,
    mailer: Any = None,
    sessions: str = "cookie",
) -> App:
    from brace.auth import Group, User

    app = App()
    app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=sessions)
    db = Database(url, app=app)
    Auth(app, throttle=throttle or Throttle(), mailer=mailer)
    app.include(auth_views(signup=True))
    enable_tokens(app, JWTTokens(secret=JWT_SECRET, audience="tests", issuer="brace"))

    @app.on_startup
    async def seed() -> None:
        await db.drop_all()
        await db.create_all()
        async with db.session() as session:
            editors = Group(name="editors", permissions=["articles.edit"])
            ada = User(email="ada@example.com")
            ed = User(email="ed@example.com", groups=[editors])
            root = User(email="root@example.com", is_superuser=True, is_staff=True)
            gone = User(email="gone@example.com", is_active=False)
            for user in (ada, ed, root, gone):
                user.set_password(PASSWORD)
            session.add_all([editors, ada, ed, root, gone])
            await session.commit()

    @app.get("/me")
    async def me(user: CurrentUser) -> dict[str, Any]:
        return {"email": user.email if user else None}

    @app.get("/private")
    async def private(user: RequireUser) -> str:
        return f"hello {user.email}"

    @app.post("/articles/{id}/edit")
    async def edit(id: int, user: Annotated[Any, requires("articles.edit")]) -> str:
        return f"{user.email} edited {id}"

    staff = Router(prefix="/staff", dependencies=[requires(staff=True)])

    @staff.get("/panel")
    async def panel() -> str:
        return "staff only"

    app.include(staff)

    @app.get("/whole-router-login", dependencies=[login_required])
    async def whole() -> str:
        return "ok"

    @app.post("/logout-everywhere")
    async def everywhere(request: Request) -> None:
        await logout(request, everywhere=True)

    @app.post("/force-session-user")
    async def force_user(request: Request) -> None:
        request.session["_auth_user_id"] = "not-a-number"

    @app.post("/password")
    async def change_password(user: RequireUser, session: DB) -> None:
        user.set_password("a brand new passphrase")
        session.add(user)

    return app


@pytest.fixture
def app(db_url: str) -> App:
    return make_app(db_url)


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def csrf(client: TestClient) -> str:
    match = TOKEN_INPUT.search(client.get("/auth/login").text)
    assert match is not None
    return match.group(1)


def log_in(
    client: TestClient,
    email: str = "ada@example.com",
    password: str = PASSWORD,
    next_url: str = "/",
) -> Any:
    return client.post(
        "/auth/login",
        data={
            "username": email,
            "password": password,
            "csrf_token": csrf(client),
            "next": next_url,
        },
    )


__all__ = ["PASSWORD", "csrf", "log_in", "make_app"]
