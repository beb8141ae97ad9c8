"""Redis sessions against the real Redis server (required in CI)."""

import asyncio

import pytest

from brace import App, Request
from brace.csrf import csrf_token
from brace.sessions import SessionMiddleware
from brace.testing import TestClient

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("need_redis")]
REDIS_URL = "redis://127.0.0.1:6379/15"
SECRET = "a-test-secret-that-is-long-enough"


def make_app(max_age: int = 3600) -> App:
    app = App()
    app.add_middleware(SessionMiddleware, secret_key=SECRET, backend=REDIS_URL, max_age=max_age)

    @app.post("/login/{user}")
    async def login(user: str, request: Request) -> str:
        request.session.rotate()  # type: ignore[attr-defined]
        request.session["user"] = user
        return request.session.id  # type: ignore[attr-defined,no-any-return]

    @app.get("/me")
    async def me(request: Request) -> dict[str, object]:
        return {"user": request.session.get("user")}

    @app.get("/token")
    async def token(request: Request) -> str:
        return csrf_token(request)

    return app


async def redis_ttl(session_id: str) -> tuple[int, bytes | None]:
    from redis import asyncio as redis_asyncio

    client = redis_asyncio.from_url(REDIS_URL)
    try:
        key = "brace:session:" + session_id
        return await client.ttl(key), await client.get(key)
    finally:
        await client.aclose()


def test_sessions_live_in_redis_with_a_ttl_and_rotation_drops_the_old_key() -> None:
    app = make_app(max_age=120)
    with TestClient(app) as client:
        first = client.post("/login/ada").text
        assert client.get("/me").json() == {"user": "ada"}
        ttl, stored = asyncio.run(redis_ttl(first))
        assert 0 < ttl <= 120
        assert stored == b'{"user":"ada"}'
        token = client.get("/token").text  # the session cookie now travels: CSRF applies
        assert client.post("/login/ada").status_code == 403
        second = client.post("/login/ada", headers={"X-CSRF-Token": token}).text
    assert asyncio.run(redis_ttl(first)) == (-2, None)  # the replaced id is gone
    assert asyncio.run(redis_ttl(second))[1] == b'{"user":"ada"}'
    # Another worker (another app instance) sees the same session.
    with TestClient(make_app(), cookies={"session": client.cookies["session"]}) as other:
        assert other.get("/me").json() == {"user": "ada"}


def test_unknown_or_forged_ids_are_empty_sessions() -> None:
    with TestClient(make_app(), cookies={"session": "forged.value.here"}) as client:
        assert client.get("/me").json() == {"user": None}
