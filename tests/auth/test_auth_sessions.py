"""Session logins through the login page: redirects with a safe `next`, session fixation,
permissions on handlers and routers, logout, password changes, throttling."""

import asyncio
from typing import Any

import pytest

from brace.auth import Throttle, safe_next
from brace.testing import TestClient
from support_auth import PASSWORD, csrf, log_in, make_app


def test_anonymous_browsers_go_to_the_login_page_and_apis_get_401(client: TestClient) -> None:
    page = client.get("/private?x=1", headers={"accept": "text/html"})
    assert page.status_code == 303
    assert page.headers["location"] == "/auth/login?next=/private%3Fx%3D1"
    api = client.get("/private")
    assert api.status_code == 401 and api.headers["www-authenticate"] == "Bearer"
    assert api.headers["content-type"] == "application/problem+json"
    assert client.post("/articles/1/edit", headers={"accept": "text/html"}).status_code == 401


def test_login_then_protected_pages_then_logout(client: TestClient) -> None:
    assert client.get("/me").json() == {"email": None}
    r = log_in(client, next_url="/private")
    assert r.status_code == 303 and r.headers["location"] == "/private"
    assert client.get("/private").text == "hello ada@example.com"
    assert client.get("/whole-router-login").text == "ok"
    out = client.post("/auth/logout", headers={"X-CSRF-Token": csrf(client)})
    assert out.status_code == 303 and out.headers["location"] == "/auth/login"
    assert client.get("/me").json() == {"email": None}
    assert "You have been logged out." in client.get("/auth/login").text


def test_session_id_changes_at_login(db_url: str) -> None:
    app = make_app(db_url)
    with TestClient(app) as client:
        client.get("/auth/login")  # an anonymous session (holding the CSRF secret)
        before = client.cookies["session"]
        log_in(client)
        after = client.cookies["session"]
        assert before != after
    # An attacker who planted `before` gets nothing from it.
    with TestClient(app, cookies={"session": before}) as attacker:
        assert attacker.get("/me").json() == {"email": None}


def test_wrong_password_unknown_and_inactive_accounts_look_the_same(client: TestClient) -> None:
    answers = []
    for email, password in [
        ("ada@example.com", "wrong password"),
        ("nobody@example.com", PASSWORD),
        ("gone@example.com", PASSWORD),
    ]:
        r = log_in(client, email, password)
        answers.append((r.status_code, "Invalid email or password." in r.text))
    assert answers == [(400, True)] * 3
    assert client.get("/me").json() == {"email": None}


def test_login_form_keeps_input_escaped(client: TestClient) -> None:
    hostile = '"><script>alert(1)</script>'
    r = log_in(client, hostile, "x")
    assert r.status_code == 400
    assert "<script>alert(1)</script>" not in r.text
    assert "&lt;script&gt;" in r.text or "&#34;&gt;&lt;script&gt;" in r.text


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
        "/ok\r\nSet-Cookie: x=1",
        "http:/evil.example",
        "",
    ],
)
def test_next_never_leaves_the_site(client: TestClient, target: str) -> None:
    r = log_in(client, next_url=target)
    assert r.status_code == 303
    assert r.headers["location"] == "/"


def test_safe_next_keeps_local_paths() -> None:
    assert safe_next("/articles/1?tab=2#x") == "/articles/1?tab=2#x"
    assert safe_next(None, "/home") == "/home"


def test_permissions_on_handlers_and_routers(client: TestClient) -> None:
    log_in(client)  # ada: no permissions
    token = csrf(client)
    assert client.post("/articles/7/edit", headers={"X-CSRF-Token": token}).status_code == 403
    assert client.get("/staff/panel").status_code == 403
    client.post("/auth/logout", headers={"X-CSRF-Token": token})

    log_in(client, "ed@example.com")  # in the editors group
    token = csrf(client)
    r = client.post("/articles/7/edit", headers={"X-CSRF-Token": token})
    assert r.text == "ed@example.com edited 7"
    assert client.get("/staff/panel").status_code == 403
    client.post("/auth/logout", headers={"X-CSRF-Token": token})

    log_in(client, "root@example.com")  # superuser and staff
    token = csrf(client)
    assert client.post("/articles/7/edit", headers={"X-CSRF-Token": token}).status_code == 200
    assert client.get("/staff/panel").text == "staff only"


def test_changing_the_password_ends_other_sessions(client: TestClient) -> None:
    # Two devices: one client, two cookie jars (an app's pool belongs to one event loop).
    log_in(client)
    phone = client.cookies["session"]
    client.cookies.clear()
    log_in(client)
    client.post("/password", headers={"X-CSRF-Token": csrf(client)})  # from the laptop
    client.cookies.clear()
    client.cookies.set("session", phone)
    assert client.get("/me").json() == {"email": None}


def test_a_cookie_captured_before_logout_is_dead_after_it(db_url: str) -> None:
    # A signed cookie cannot be revoked alone: logging out moves the user's session version
    # on, which ends every session logged in before (the phone's too).
    with TestClient(make_app(db_url)) as client:
        log_in(client)
        phone = client.cookies["session"]
        client.cookies.clear()
        log_in(client)
        captured = client.cookies["session"]
        token = client.post(
            "/auth/token", data={"username": "ada@example.com", "password": PASSWORD}
        )
        jwt = token.json()["access_token"]
        client.post("/auth/logout", headers={"X-CSRF-Token": csrf(client)})
        for cookie in (captured, phone):
            client.cookies.clear()
            client.cookies.set("session", cookie)
            assert client.get("/me").json() == {"email": None}
            assert client.get("/private").status_code == 401
        # A bearer token is its own credential: a browser logout does not end it.
        client.cookies.clear()
        me = client.get("/me", headers={"authorization": f"Bearer {jwt}"})
        assert me.json() == {"email": "ada@example.com"}
        # And logging in again works.
        log_in(client)
        assert client.get("/me").json() == {"email": "ada@example.com"}


def test_server_side_sessions_end_one_at_a_time_unless_everywhere(db_url: str) -> None:
    def device(client: TestClient) -> str:
        client.cookies.clear()
        log_in(client)
        return client.cookies["session"]

    def who(client: TestClient, cookie: str) -> Any:
        client.cookies.clear()
        client.cookies.set("session", cookie)
        return client.get("/me").json()["email"]

    with TestClient(make_app(db_url, sessions="memory")) as client:
        phone, tablet, laptop = device(client), device(client), device(client)
        client.post("/auth/logout", headers={"X-CSRF-Token": csrf(client)})  # the laptop
        assert who(client, laptop) is None
        assert who(client, phone) == "ada@example.com"
        assert who(client, tablet) == "ada@example.com"
        # "Log out everywhere", from the phone, ends the tablet's session as well.
        who(client, phone)
        client.post("/logout-everywhere", headers={"X-CSRF-Token": csrf(client)})
        assert who(client, tablet) is None


def test_logout_with_a_junk_user_id_in_the_session_is_harmless(db_url: str) -> None:
    with TestClient(make_app(db_url)) as client:
        client.get("/auth/login")
        forced = client.post("/force-session-user", headers={"X-CSRF-Token": csrf(client)})
        assert forced.status_code == 204
        out = client.post("/auth/logout", headers={"X-CSRF-Token": csrf(client)})
        assert out.status_code == 303
        log_in(client)
        assert client.get("/me").json() == {"email": "ada@example.com"}


def test_forged_or_tampered_session_cookies_are_anonymous(client: TestClient) -> None:
    log_in(client)
    real = client.cookies["session"]
    for forged in (real[:-2] + "xx", "eyJfYXV0aF91c2VyX2lkIjogIjEifQ", "", "a" * 4000):
        client.cookies.clear()
        client.cookies.set("session", forged)
        assert client.get("/me").json() == {"email": None}


def test_the_eleventh_failure_in_a_minute_is_refused(db_url: str) -> None:
    app = make_app(db_url, throttle=Throttle(limit=10, window=60))
    with TestClient(app) as client:
        for _ in range(10):
            assert log_in(client, password="wrong password").status_code == 400
        r = log_in(client)  # even the right password, until the window passes
        assert r.status_code == 429 and r.headers["retry-after"] == "60"
    # Other accounts from another address are not affected.
    with TestClient(app, client=("10.0.0.9", 1)) as other:
        assert log_in(other, "ed@example.com").status_code == 303


def test_throttle_counts_per_client_address_too(db_url: str) -> None:
    app = make_app(db_url, throttle=Throttle(limit=3, window=60))
    with TestClient(app, client=("10.0.0.1", 1)) as client:
        for email in ("a@x.y", "b@x.y", "c@x.y"):
            log_in(client, email, "wrong")
        assert log_in(client, "ed@example.com").status_code == 429


def test_rehash_when_parameters_change(client: TestClient, app: Any) -> None:
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from brace.auth import User
    from brace.db import Database

    db = Database.of(app)
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)

    async def set_weak_hash() -> None:
        async with db.session() as session:
            user = await session.scalar(select(User).where(User.email == "ada@example.com"))
            assert user is not None
            user.password_hash = weak
            await session.commit()

    async def stored_hash() -> str:
        async with db.session() as session:
            user = await session.scalar(select(User).where(User.email == "ada@example.com"))
            assert user is not None
            return user.password_hash

    client.run(set_weak_hash())
    assert log_in(client).status_code == 303
    upgraded = client.run(stored_hash())
    assert upgraded != weak and "m=19456,t=2,p=1" in upgraded


def test_padding_the_account_does_not_reset_the_counter(db_url: str) -> None:
    app = make_app(db_url, throttle=Throttle(limit=3, window=60))
    with TestClient(app) as client:
        for _ in range(3):
            log_in(client, password="wrong password")
    for padded in (" ada@example.com", "ada@example.com ", "\tada@example.com", "ADA@example.com"):
        with TestClient(app, client=("10.9.9.9", 1)) as other:
            assert log_in(other, padded).status_code == 429, repr(padded)


def test_auth_pages_use_a_stylesheet_file(client: TestClient) -> None:
    page = client.get("/auth/login").text
    assert "<style" not in page and 'href="/auth/static/auth.css"' in page
    css = client.get("/auth/static/auth.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")


def test_building_views_twice_does_not_nest_loaders() -> None:
    import jinja2

    from brace.auth import auth_views
    from brace.templating import Templates

    templates = Templates([])
    auth_views(templates)
    auth_views(templates)
    loader = templates.env.loader
    assert isinstance(loader, jinja2.ChoiceLoader) and len(loader.loaders) == 2


def _attempts(app: Any, passwords: list[str], client_host: str) -> Any:
    """Log in concurrently with each password (as ada), straight through `authenticate`."""
    from brace import HTTPError, Request
    from brace.auth import authenticate
    from brace.db import Database

    async def one(password: str) -> str:
        scope = {
            "type": "http",
            "app": app,
            "method": "POST",
            "path": "/auth/login",
            "headers": [],
            "client": (client_host, 1),
        }
        async with Database.of(app).session() as session:
            try:
                user = await authenticate(Request(scope), session, "ada@example.com", password)
            except HTTPError as error:
                return str(error.status_code)
        return "in" if user is not None else "wrong"

    async def all_at_once() -> list[str]:
        return list(await asyncio.gather(*(one(p) for p in passwords)))

    return all_at_once()


def test_concurrent_attempts_are_counted_before_the_password_is_checked(db_url: str) -> None:
    app = make_app(db_url, throttle=Throttle(limit=10, window=60))
    with TestClient(app) as client:
        outcomes = client.run(_attempts(app, ["wrong password"] * 60, "10.1.1.1"))
        assert outcomes.count("wrong") == 10  # only the first ten were evaluated
        assert outcomes.count("429") == 50


def test_the_right_password_among_many_wrong_ones_sent_together_is_refused(db_url: str) -> None:
    app = make_app(db_url, throttle=Throttle(limit=10, window=60))
    with TestClient(app) as client:
        outcomes = client.run(_attempts(app, ["wrong password"] * 39 + [PASSWORD], "10.1.1.2"))
        assert "in" not in outcomes
        assert outcomes[-1] == "429"


def test_successful_logins_do_not_count_against_the_client_address(db_url: str) -> None:
    app = make_app(db_url, throttle=Throttle(limit=3, window=60))
    with TestClient(app, client=("10.0.0.7", 1)) as client:
        for _ in range(6):  # more than the limit, all right: an office behind one address
            assert log_in(client).status_code == 303
            client.post("/auth/logout", data={"csrf_token": csrf(client)})


def test_ipv6_clients_are_counted_per_64(db_url: str) -> None:
    from brace._clients import client_group

    assert client_group("2001:db8:1:2:aaaa::1") == client_group("2001:db8:1:2:bbbb::9")
    assert client_group("2001:db8:1:2::1") != client_group("2001:db8:1:3::1")
    assert client_group("10.0.0.1") == "10.0.0.1"
    app = make_app(db_url, throttle=Throttle(limit=3, window=60))
    for host in ("2001:db8::a", "2001:db8::b", "2001:db8::c"):
        with TestClient(app, client=(host, 1)) as client:
            log_in(client, f"{host[-1]}@x.y", "wrong")
    with TestClient(app, client=("2001:db8::d", 1)) as client:
        assert log_in(client, "ed@example.com").status_code == 429  # same /64
    with TestClient(app, client=("2001:db8:0:1::d", 1)) as client:
        assert log_in(client, "ed@example.com").status_code == 303  # another /64


def test_aset_password_keeps_the_event_loop_serving() -> None:
    from brace.auth import User
    from brace.auth._passwords import verify_password

    async def main() -> tuple[int, int]:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.001)
                ticks += 1

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0)
        blocking = User(email="b@example.com")
        before = ticks
        blocking.set_password("a long enough passphrase")  # the loop stands still meanwhile
        during_sync = ticks - before
        user = User(email="a@example.com")
        before = ticks
        await user.aset_password("a long enough passphrase")
        during_async = ticks - before
        task.cancel()
        assert verify_password(user.password_hash, "a long enough passphrase")[0]
        return during_sync, during_async

    during_sync, during_async = asyncio.run(main())
    assert during_sync == 0
    assert during_async >= 5  # hashing took ~0.1 s, and the loop ticked on
