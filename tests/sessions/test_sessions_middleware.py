"""Sessions: signed cookies, key rotation, server-side backends, rotation, hostile cookies."""

from typing import Any

import pytest

from brace import App, Request
from brace.sessions import SessionMiddleware, Signer
from brace.testing import TestClient

SECRET = "a-test-secret-that-is-long-enough"


def make_app(debug: bool = False, **options: Any) -> App:
    app = App(debug=debug)
    options.setdefault("csrf", False)  # these tests are about sessions; CSRF has tests/csrf
    app.add_middleware(SessionMiddleware, secret_key=options.pop("secret_key", SECRET), **options)

    @app.post("/login/{user}")
    async def login(user: str, request: Request) -> dict[str, Any]:
        session: Any = request.session
        old = session.id
        session.rotate()
        session["user"] = user
        return {"old": old, "new": session.id}

    @app.get("/me")
    async def me(request: Request) -> dict[str, Any]:
        return {"user": request.session.get("user"), "id": getattr(request.session, "id", None)}

    @app.post("/logout")
    async def logout(request: Request) -> None:
        request.session.clear()

    @app.post("/big")
    async def big(request: Request) -> None:
        request.session["blob"] = "x" * 10_000

    return app


@pytest.mark.parametrize("backend", ["cookie", "memory"])
def test_session_round_trip_rotation_and_logout(backend: str) -> None:
    with TestClient(make_app(backend=backend)) as client:
        assert client.get("/me").json()["user"] is None
        assert "set-cookie" not in client.get("/me").headers  # untouched: no cookie sent
        first = client.post("/login/ada").json()
        assert first["old"] is None
        assert client.get("/me").json()["user"] == "ada"
        second = client.post("/login/grace").json()
        assert second["old"] == first["new"] and second["new"] != first["new"]
        assert client.get("/me").json() == {"user": "grace", "id": second["new"]}
        logout = client.post("/logout")
        assert "Max-Age=0" in logout.headers["set-cookie"]
        assert client.get("/me").json()["user"] is None


def test_memory_backend_forgets_the_id_replaced_by_rotation() -> None:
    app = make_app(backend="memory")
    with TestClient(app) as client:
        client.post("/login/ada")
        planted = client.cookies["session"]
        client.post("/login/ada")  # rotate: the planted id must stop working
    with TestClient(app, cookies={"session": planted}) as attacker:
        assert attacker.get("/me").json()["user"] is None


def test_cookie_flags_follow_debug() -> None:
    with TestClient(make_app()) as client:
        cookie = client.post("/login/ada").headers["set-cookie"]
    for flag in ("HttpOnly", "SameSite=Lax", "Secure", "Path=/", "Max-Age=1209600"):
        assert flag in cookie
    with TestClient(make_app(debug=True)) as client:
        assert "Secure" not in client.post("/login/ada").headers["set-cookie"]


@pytest.mark.parametrize(
    "cookie",
    [
        "garbage",
        "a.b.c",
        "....",
        "é" * 10,
        "x" * 5000,
        "eyJpZCI6ImEiLCJkYXRhIjp7InVzZXIiOiJhZG1pbiJ9fQ.AAAAAAAAAAA.forged",
        "' OR 1=1 --",
        "<script>alert(1)</script>",
    ],
)
def test_forged_or_malformed_cookies_give_an_empty_session(cookie: str) -> None:
    raw = b"session=" + cookie.encode("utf-8")  # raw bytes: also not-ASCII and unquoted ones
    with TestClient(make_app()) as client:
        response = client.get("/me", headers=[(b"cookie", raw)])
    assert response.status_code == 200
    assert response.json()["user"] is None


def test_tampered_payload_is_rejected() -> None:
    with TestClient(make_app()) as client:
        client.post("/login/ada")
        value = client.cookies["session"]
    body, stamp, mac = value.split(".")
    forged = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1] + "." + stamp + "." + mac
    with TestClient(make_app(), cookies={"session": forged}) as client:
        assert client.get("/me").json()["user"] is None


def test_secret_key_rotation() -> None:
    with TestClient(make_app(secret_key="old-secret-old-secret")) as client:
        client.post("/login/ada")
        old_cookie = client.cookies["session"]
    rotated = make_app(secret_key=["new-secret-new-secret", "old-secret-old-secret"])
    with TestClient(rotated, cookies={"session": old_cookie}) as client:
        assert client.get("/me").json()["user"] == "ada"
    retired = make_app(secret_key="new-secret-new-secret")
    with TestClient(retired, cookies={"session": old_cookie}) as client:
        assert client.get("/me").json()["user"] is None


def test_oversized_cookie_sessions_fail_loudly(caplog: pytest.LogCaptureFixture) -> None:
    with TestClient(make_app()) as client:
        response = client.post("/big")
    assert response.status_code == 500
    assert "set-cookie" not in response.headers
    assert "over the 4000-byte limit" in caplog.text
    with TestClient(make_app(backend="memory")) as client:
        assert client.post("/big").status_code == 204  # server-side: only the id travels


def test_signer_expiry_and_validation() -> None:
    signer = Signer(SECRET)
    token = signer.sign(b"payload", now=1000)
    assert signer.unsign(token, max_age=60, now=1030) == b"payload"
    assert signer.unsign(token, max_age=60, now=1061) is None
    assert signer.unsign(token + "x", max_age=None) is None
    with pytest.raises(ValueError, match="at least 16"):
        Signer("short")
    with pytest.raises(ValueError, match="unknown session backend"):
        SessionMiddleware(make_app(), secret_key=SECRET, backend="mongodb://x")


def test_request_session_without_middleware_says_what_to_do(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = App()

    @app.get("/")
    async def index(request: Request) -> Any:
        return request.session

    with TestClient(app) as client:
        assert client.get("/").status_code == 500
    assert "needs brace.sessions.SessionMiddleware" in caplog.text
