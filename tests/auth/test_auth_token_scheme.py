"""`Authorization: Token …` (as the RealWorld "Conduit" API uses) and apps that issue tokens
from their own login endpoint (`token_url=None`)."""

from __future__ import annotations

from brace import App, HTTPError, Request
from brace.auth import Auth, RequireUser, User, authenticate
from brace.auth.tokens import JWTTokens, enable_tokens, issue_for
from brace.db import DB, Database
from brace.testing import TestClient
from support_auth import JWT_SECRET, PASSWORD


def make_app(url: str) -> App:
    app = App()
    db = Database(url, app=app)
    auth = Auth(app, secret_key="a-token-scheme-secret-long-enough")
    jwt = JWTTokens(secret=JWT_SECRET)
    enable_tokens(app, jwt, token_url=None, scheme="Token")

    @app.on_startup
    async def seed() -> None:
        await db.drop_all()
        await db.create_all()
        async with db.session() as session:
            user = User(email="jake@example.com")
            user.set_password(PASSWORD)
            session.add(user)
            await session.commit()

    @app.post("/api/users/login")
    async def login(request: Request, session: DB, body: dict[str, str]) -> dict[str, str]:
        user = await authenticate(request, session, body["email"], body["password"])
        if user is None:
            raise HTTPError(422, "email or password is invalid")
        return {"token": issue_for(auth, jwt, user)}

    @app.get("/api/user")
    async def me(user: RequireUser) -> dict[str, str]:
        return {"email": user.email}

    return app


def test_tokens_come_in_the_configured_scheme(db_url: str) -> None:
    with TestClient(make_app(db_url)) as client:
        login = client.post(
            "/api/users/login", json={"email": "jake@example.com", "password": PASSWORD}
        )
        assert login.status_code == 200, login.text
        token = login.json()["token"]
        assert client.get("/api/user", headers={"Authorization": f"Token {token}"}).json() == {
            "email": "jake@example.com"
        }
        wrong_scheme = client.get("/api/user", headers={"Authorization": f"Bearer {token}"})
        assert wrong_scheme.status_code == 401
        assert wrong_scheme.headers["www-authenticate"] == "Token"
        forged = client.get("/api/user", headers={"Authorization": "Token not-a-token"})
        assert forged.status_code == 401
        assert forged.json()["detail"] == "The token is invalid or expired."


def test_no_password_endpoint_and_openapi_follows_the_scheme(db_url: str) -> None:
    with TestClient(make_app(db_url)) as client:
        assert client.post("/auth/token", data={"username": "a", "password": "b"}).status_code in (
            404,
            405,
        )
        document = client.get("/openapi.json").json()
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "TokenToken": {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`",
        }
    }
    assert document["paths"]["/api/user"]["get"]["security"] == [{"TokenToken": []}]


def test_a_bad_scheme_name_is_refused() -> None:
    import pytest

    app = App()
    Auth(app, secret_key="a-token-scheme-secret-long-enough")
    with pytest.raises(ValueError, match="not an Authorization scheme"):
        enable_tokens(app, JWTTokens(secret=JWT_SECRET), scheme="Bad Scheme")


def test_bearer_without_a_token_url_is_plain_http_bearer(db_url: str) -> None:
    app = App()
    Database(db_url, app=app)
    Auth(app, secret_key="a-token-scheme-secret-long-enough")
    enable_tokens(app, JWTTokens(secret=JWT_SECRET), token_url=None)
    with TestClient(app) as client:
        schemes = client.get("/openapi.json").json()["components"]["securitySchemes"]
    assert schemes == {"BearerToken": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
