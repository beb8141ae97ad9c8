"""Every request reaches its handler through one path that applies the same checks: odd
paths (U+FFFD, overlong, percent-encoded) get no way around CSRF, and mounted apps are
guarded by the session middleware that wraps them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from brace import App, Request
from brace.sessions import SessionMiddleware
from brace.testing import TestClient

SECRET = "a-test-secret-that-is-long-enough"
EVIL = {"origin": "https://evil.example"}
UNSAFE = ["POST", "PUT", "PATCH", "DELETE"]


def make_app() -> App:
    app = App()
    app.add_middleware(SessionMiddleware, secret_key=SECRET)
    deleted: list[str] = []
    app.state.deleted = deleted

    @app.get("/login")
    async def login(request: Request) -> str:
        request.session["user"] = "ada"
        return "in"

    @app.route("/notes/{key}/delete", methods=UNSAFE)
    async def delete(key: str) -> str:
        deleted.append(key)
        return "deleted"

    @app.route("/files/{rest:path}", methods=UNSAFE)
    async def files(rest: str) -> str:
        deleted.append(rest)
        return "gone"

    inner = App()

    @inner.post("/transfer")
    async def transfer() -> str:
        deleted.append("transfer")
        return "sent"

    app.mount("/bank", inner)
    return app


def deleted(client: TestClient) -> list[str]:
    app = client.app
    assert isinstance(app, App)
    return app.state.deleted  # type: ignore[no-any-return]


@pytest.fixture
def logged_in() -> Iterator[TestClient]:
    with TestClient(make_app()) as client:
        assert client.get("/login").text == "in"
        yield client


@pytest.mark.parametrize("method", UNSAFE)
@pytest.mark.parametrize(
    "path",
    [
        "/notes/abc/delete",
        "/notes/%EF%BF%BD/delete",
        "/notes/x%EF%BF%BDy/delete",
        "/files/a/%EF%BF%BD/b",
        "/files/%2e%2e/%EF%BF%BD",
        "/notes/" + "a" * 4000 + "%EF%BF%BD/delete",
    ],
)
def test_cross_site_requests_are_refused_whatever_the_path(
    logged_in: TestClient, method: str, path: str
) -> None:
    response = logged_in.request(method, path, headers=EVIL)
    assert response.status_code == 403, response.text
    assert "CSRF" in response.json()["detail"]
    assert deleted(logged_in) == []


@pytest.mark.parametrize("path", ["/notes/%EF%BF%BD/delete", "/files/%EF%BF%BD"])
def test_without_a_token_a_same_site_post_to_an_odd_path_is_refused_too(
    logged_in: TestClient, path: str
) -> None:
    response = logged_in.post(path)
    assert response.status_code == 403
    assert "token is missing" in response.json()["detail"]


def test_a_mounted_app_is_guarded_by_the_session_middleware_around_it(
    logged_in: TestClient,
) -> None:
    response = logged_in.post("/bank/transfer", headers=EVIL)
    assert response.status_code == 403
    assert deleted(logged_in) == []


def test_invalid_utf8_paths_are_a_400_not_a_bypass(logged_in: TestClient) -> None:
    response = logged_in.post("/notes/%FF%FE/delete", headers=EVIL)
    assert response.status_code == 400
    assert deleted(logged_in) == []


def test_a_junk_session_cookie_is_refused_before_the_body_is_read() -> None:
    read: list[bool] = []
    app = make_app()

    async def receive_never() -> dict[str, object]:
        read.append(True)
        return {"type": "http.request", "body": b"csrf_token=x", "more_body": False}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    sent: list[dict[str, object]] = []
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/notes/abc/delete",
        "raw_path": b"/notes/abc/delete",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"testserver"),
            (b"cookie", b"session=junk"),
            (b"content-type", b"application/x-www-form-urlencoded"),
        ],
        "scheme": "http",
        "client": ("127.0.0.1", 1),
    }
    import asyncio

    asyncio.run(app(scope, receive_never, send))  # type: ignore[arg-type]
    assert sent[0]["status"] == 403
    assert b"has no CSRF token" in sent[1]["body"]  # type: ignore[operator]
    assert read == []
    assert deleted_from(app) == []


def deleted_from(app: App) -> list[str]:
    return app.state.deleted  # type: ignore[no-any-return]
