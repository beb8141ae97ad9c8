"""brace.auth in headless Chromium against real uvicorn: the login page, logout, and the
OAuth2 password flow behind the Authorize button of /docs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from brace import App, HTMLResponse, Request
from brace.auth import Auth, RequireUser, auth_views
from brace.auth.tokens import JWTTokens, enable_tokens
from brace.db import Database
from brace.sessions import SessionMiddleware
from brace.templating import Templates

pytestmark = pytest.mark.browser

SECRET = "an-auth-browser-test-secret-long-enough"
JWT_SECRET = "a-jwt-secret-for-the-browser-test-32-bytes+"
EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"
WAIT = 15_000  # ms: generous upper bounds for explicit waits, never sleeps

DASHBOARD = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Dashboard</title></head>
<body>
<h1>Dashboard</h1>
<p>Logged in as <span id="email">{{ user.email }}</span></p>
<form method="post" action="{{ url_for('brace_auth_logout') }}">
  {{ csrf_input() }}
  <button type="submit">Log out</button>
</form>
</body></html>
"""


def make_app(tmp_path: Path) -> App:
    from brace.auth import User

    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "dashboard.html").write_text(DASHBOARD)
    templates = Templates(tmp_path / "templates")

    app = App(title="Accounts")
    # Plain http://127.0.0.1: no Secure flag (Chromium would keep it on 127.0.0.1 anyway, it
    # counts as a secure context, but saying so keeps the test independent of that rule).
    app.add_middleware(SessionMiddleware, secret_key=SECRET, https_only=False)
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'auth.db'}", app=app)
    Auth(app)
    app.include(auth_views())
    enable_tokens(app, JWTTokens(secret=JWT_SECRET, lifetime=600))

    @app.on_startup
    async def seed() -> None:
        await db.create_all()
        async with db.session() as session:
            ada = User(email=EMAIL)
            ada.set_password(PASSWORD)
            session.add(ada)
            await session.commit()

    @app.get("/dashboard", include_in_schema=False)
    async def dashboard(request: Request, user: RequireUser) -> HTMLResponse:
        return templates.render(request, "dashboard.html", {"user": user})

    @app.get("/api/me", tags=["api"])
    async def me(user: RequireUser) -> dict[str, str]:
        """The logged-in user."""
        return {"email": user.email}

    return app


@pytest.fixture
def base(serve: Callable[[Any], str], tmp_path: Path) -> str:
    return serve(make_app(tmp_path))


@pytest.fixture
def page(browser: Any, base: str) -> Iterator[Any]:
    """A page in its own context (no cookies shared between tests); requests that leave the
    test server are aborted, so /docs must work offline."""
    context = browser.new_context()
    context.set_default_timeout(WAIT)
    page = context.new_page()
    blocked: list[str] = []

    def guard(route: Any) -> None:
        if route.request.url.startswith(base + "/") or route.request.url.startswith("data:"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    page.route("**/*", guard)
    yield page
    context.close()
    assert blocked == []


def to_login(page: Any, base: str) -> None:
    """Open the protected page anonymously: Chromium lands on the login page."""
    page.goto(base + "/dashboard")
    page.wait_for_url(base + "/auth/login?next=/dashboard")
    assert page.title() == "Log in"


def submit_login(page: Any, email: str, password: str) -> Any:
    """Fill the login form, click "Log in"; the response to the POST."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    return posted.value


def test_login_redirects_back_to_the_protected_page(page: Any, base: str) -> None:
    to_login(page, base)
    assert page.locator("input[name=next]").input_value() == "/dashboard"
    assert submit_login(page, EMAIL, PASSWORD).status == 303
    page.wait_for_url(base + "/dashboard")
    assert page.locator("#email").inner_text() == EMAIL
    cookies = {c["name"]: c for c in page.context.cookies()}
    assert list(cookies) == ["session"]
    assert cookies["session"]["httpOnly"] is True
    assert cookies["session"]["sameSite"] == "Lax"
    assert cookies["session"]["secure"] is False
    page.reload()  # the session holds: still logged in
    assert page.locator("#email").inner_text() == EMAIL


def test_a_wrong_password_is_refused_and_the_email_kept(page: Any, base: str) -> None:
    to_login(page, base)
    response = submit_login(page, EMAIL, "not the password at all")
    assert response.status == 400
    assert page.get_by_role("alert").inner_text() == "Invalid email or password."
    assert page.get_by_label("Email").input_value() == EMAIL
    assert page.get_by_label("Password").input_value() == ""
    assert page.locator("input[name=next]").input_value() == "/dashboard"
    # The re-rendered form carries a valid token: the right password now gets through.
    assert submit_login(page, EMAIL, PASSWORD).status == 303
    page.wait_for_url(base + "/dashboard")
    assert page.locator("#email").inner_text() == EMAIL


def test_logout_ends_the_session(page: Any, base: str) -> None:
    to_login(page, base)
    submit_login(page, EMAIL, PASSWORD)
    page.wait_for_url(base + "/dashboard")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Log out").click()
    assert posted.value.status == 303
    page.wait_for_url(base + "/auth/login")
    assert page.locator(".flash").all_inner_texts() == ["You have been logged out."]
    page.goto(base + "/dashboard")
    page.wait_for_url(base + "/auth/login?next=/dashboard")
    assert page.locator(".flash").count() == 0  # shown once
    assert page.locator("#email").count() == 0


def test_swagger_authorize_then_try_it_out(page: Any, base: str, tmp_path: Path) -> None:
    page.goto(base + "/docs")
    page.locator(".btn.authorize").click()
    page.locator("#oauth_username").fill(EMAIL)
    page.locator("#oauth_password").fill(PASSWORD)
    with page.expect_response(lambda r: r.url == base + "/auth/token") as issued:
        page.locator(".auth-btn-wrapper .authorize").click()
    assert issued.value.status == 200
    assert issued.value.json()["token_type"] == "bearer"
    dialog = page.locator(".dialog-ux .modal-ux")
    dialog.get_by_role("heading", name="Authorized").wait_for()
    assert dialog.get_by_role("button", name="Remove authorization").inner_text() == "Logout"
    assert dialog.locator("code", has_text=EMAIL).count() == 1
    page.locator(".auth-btn-wrapper .btn-done").click()
    dialog.wait_for(state="detached")

    operation = page.locator(
        ".opblock-get", has=page.locator(".opblock-summary-path", has_text="/api/me")
    )
    operation.locator(".opblock-summary").click()
    operation.locator(".try-out__btn").click()
    with page.expect_request(lambda r: r.url == base + "/api/me") as sent:
        operation.locator(".execute").click()
    assert sent.value.headers["authorization"].startswith("Bearer ")
    status = operation.locator(".live-responses-table tbody .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    body = operation.locator(".live-responses-table tbody .response-col_description pre").first
    assert f'"email": "{EMAIL}"' in body.inner_text()
    shot = tmp_path / "swagger-authorized.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
