"""One error hook: `@app.exception_handler(HTTPError)` sees every HTTP error, the ones the
batteries make included (auth's 401, the database's 409 and 400)."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from brace import App, HTTPError, JSONResponse, Request
from brace.auth import Auth, RequireUser
from brace.db import DB, Database, Model
from brace.sessions import SessionMiddleware
from brace.testing import TestClient


class HookTag(Model):
    __tablename__ = "error_hook_tag"

    name: Mapped[str] = mapped_column(String(20), unique=True)


class TagIn(msgspec.Struct):
    name: str


def make_app(url: str) -> App:
    app = App()
    app.add_middleware(SessionMiddleware, secret_key="an-error-hook-secret-long-enough")
    db = Database(url, app=app)
    Auth(app)

    @app.on_startup
    async def tables() -> None:
        await db.drop_all()
        await db.create_all()

    @app.exception_handler(HTTPError)
    def conduit_errors(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse(
            {"errors": {"body": [exc.detail or exc.title]}},
            exc.status_code,
            headers=exc.headers,
        )

    @app.post("/tags", status_code=201)
    async def create(tag: TagIn, session: DB) -> dict[str, Any]:
        session.add(HookTag(name=tag.name))
        await session.flush()
        return {"name": tag.name}

    @app.get("/me")
    async def me(user: RequireUser) -> str:
        return str(user.email)

    return app


def test_every_http_error_goes_through_the_one_hook(db_url: str) -> None:
    with TestClient(make_app(db_url)) as client:
        assert client.post("/tags", json={"name": "python"}).status_code == 201
        duplicate = client.post("/tags", json={"name": "python"})
        assert duplicate.status_code == 409
        assert list(duplicate.json()) == ["errors"]
        too_long = client.post("/tags", json={"name": "x" * 500})
        assert too_long.status_code in (400, 201)  # SQLite does not enforce lengths
        if too_long.status_code == 400:
            assert list(too_long.json()) == ["errors"]
        anonymous = client.get("/me")
        assert anonymous.status_code == 401
        assert list(anonymous.json()) == ["errors"]
        assert "www-authenticate" in anonymous.headers
        invalid = client.post("/tags", json={"name": 3})
        assert invalid.status_code == 422 and list(invalid.json()) == ["errors"]
        assert client.get("/missing").json() == {"errors": {"body": ["Not Found"]}}


def test_a_more_specific_handler_still_wins(db_url: str) -> None:
    app = make_app(db_url)

    @app.exception_handler(409)
    def conflict(request: Request, exc: HTTPError) -> JSONResponse:
        return JSONResponse({"conflict": True}, 409)

    with TestClient(app) as client:
        client.post("/tags", json={"name": "go"})
        assert client.post("/tags", json={"name": "go"}).json() == {"conflict": True}
