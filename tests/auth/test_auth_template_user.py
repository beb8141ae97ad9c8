"""`current_user` in every template: brace's own auth pages and the project's pages, looked up
only when a page reads it, anonymous for a bad token rather than a 500."""

import logging
from pathlib import Path

import pytest

from brace import App, Request
from brace.auth import user_context
from brace.templating import Templates
from brace.testing import TestClient
from support_auth import PASSWORD, csrf, log_in, make_app


def make_site(db_url: str, tmp_path: Path) -> App:
    app = make_app(db_url)
    (tmp_path / "who.html").write_text(
        "{% if current_user %}hello {{ current_user.email }}{% else %}anonymous{% endif %}"
    )
    (tmp_path / "quiet.html").write_text("no user here")
    pages = Templates(tmp_path, context_processors=[user_context])

    @app.get("/who")
    async def who(request: Request) -> object:  # resolves no user itself
        return pages.render(request, "who.html")

    @app.get("/quiet")
    async def quiet(request: Request) -> object:
        return pages.render(request, "quiet.html")

    @app.get("/who-now")
    async def who_now(request: Request) -> str:
        return pages.render_string(request, "who.html")

    return app


@pytest.fixture
def site(db_url: str, tmp_path: Path) -> TestClient:
    with TestClient(make_site(db_url, tmp_path)) as client:
        yield client


def test_brace_auth_pages_know_who_is_logged_in(site: TestClient) -> None:
    assert "Signed in as" not in site.get("/auth/login").text
    log_in(site)
    page = site.get("/auth/login").text
    assert "Signed in as <strong>ada@example.com</strong>" in page
    assert 'action="/auth/logout"' in page  # and offers to log out, with its CSRF token
    site.post("/auth/logout", headers={"X-CSRF-Token": csrf(site)})
    assert "Signed in as" not in site.get("/auth/login").text


def test_project_pages_get_current_user_without_asking(site: TestClient) -> None:
    assert site.get("/who").text == "anonymous"
    log_in(site)
    assert site.get("/who").text == "hello ada@example.com"
    assert site.get("/quiet").text == "no user here"


def test_tokens_and_bad_tokens_in_templates(site: TestClient) -> None:
    token = site.post("/auth/token", data={"username": "ada@example.com", "password": PASSWORD})
    assert token.status_code == 200, token.text
    bearer = {"authorization": f"Bearer {token.json()['access_token']}"}
    assert site.get("/who", headers=bearer).text == "hello ada@example.com"
    for junk in ("Bearer <script>alert(1)</script>", "Bearer ' OR 1=1 --", "Bearer \u00ff"):
        try:
            response = site.get("/who", headers={"authorization": junk})
        except UnicodeEncodeError:
            continue  # not a header value HTTP can carry
        assert response.status_code == 200 and response.text == "anonymous"


def test_render_string_cannot_look_up_and_says_so(
    site: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    log_in(site)
    with caplog.at_level(logging.WARNING, logger="brace.auth"):
        assert site.get("/who-now").text == "anonymous"
    assert "render_string" in caplog.text
