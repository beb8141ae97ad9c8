"""The showcase (examples/site), driven in-process: sign up, the protected page, the API with a
bearer token, the form and its errors, and the live feed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from brace import App
from brace.config import SettingsError
from brace.db import Database
from brace.db.testing import transactional
from brace.testing import TestClient
from support_examples import load_example
from support_sse import FeedReader

SECRET = "a-test-secret-long-enough-to-sign-jwts"
EMAIL = "ada@example.com"
PASSWORD = "correct horse battery staple"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def load_site() -> ModuleType:
    return load_example("site")


site = load_site()


def showcase_settings(database: Path, **overrides: Any) -> Any:
    """The showcase's settings for a test: its own SQLite file, nothing from the environment."""
    url = f"sqlite+aiosqlite:///{database}"
    return site.SiteSettings(
        env="test", secret_key=SECRET, database_url=url, _env_file=None, **overrides
    )


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> App:
    """One site for the module, on its own SQLite file in a directory that does not exist yet
    (the site makes it); every test's changes are rolled back."""
    database = tmp_path_factory.mktemp("site") / "var" / "site.db"
    made: App = site.create_app(showcase_settings(database, feed_heartbeat=0.05))
    return made


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with (
        TestClient(app, follow_redirects=False) as client,
        transactional(client, Database.of(app)),
    ):
        yield client


def csrf_token(client: TestClient, path: str) -> str:
    found = TOKEN.search(client.get(path).text)
    assert found is not None, f"no csrf_token input on {path}"
    return found.group(1)


def sign_up(client: TestClient, email: str = EMAIL) -> None:
    form = {"email": email, "password": PASSWORD, "confirm": PASSWORD}
    token = csrf_token(client, "/auth/signup")
    response = client.post("/auth/signup", data={**form, "csrf_token": token})
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/"


def bearer(client: TestClient, email: str = EMAIL) -> dict[str, str]:
    issued = client.post("/auth/token", data={"username": email, "password": PASSWORD})
    assert issued.status_code == 200, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


# -- pages -----------------------------------------------------------------------------------


def test_home_page_invites_visitors_and_loads_the_feed(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert 'href="/auth/signup"' in page.text
    assert 'data-source="/feed"' in page.text and "/static/feed.js" in page.text
    assert "Nothing yet" in page.text
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp


def test_the_account_page_is_for_logged_in_people(client: TestClient) -> None:
    visitor = client.get("/account", headers={"accept": "text/html"})
    assert visitor.status_code == 303
    assert visitor.headers["location"] == "/auth/login?next=/account"
    sign_up(client)
    page = client.get("/account")
    assert page.status_code == 200
    assert f'<dd id="email">{EMAIL}</dd>' in page.text
    assert 'action="/auth/logout"' in page.text


def test_login_pages_wear_the_site_layout(client: TestClient) -> None:
    page = client.get("/auth/login").text
    assert "brace showcase" in page and "/static/site.css" in page
    assert "<style>" not in page  # brace's own auth/base.html (inline style) is replaced


def test_a_post_from_the_form_is_on_the_board(client: TestClient) -> None:
    sign_up(client)
    token = csrf_token(client, "/")
    posted = client.post("/posts", data={"text": "Hello, board!", "csrf_token": token})
    assert posted.status_code == 303 and posted.headers["location"] == "/"
    page = client.get("/").text
    assert "Posted: every open page shows it now." in page
    assert '<p class="text">Hello, board!</p>' in page
    assert '<span class="author">ada</span>' in page
    assert EMAIL not in page.split("</header>")[1]  # emails stay private on the board


def test_an_invalid_post_comes_back_with_its_error(client: TestClient) -> None:
    sign_up(client)
    token = csrf_token(client, "/")
    page = client.post("/posts", data={"text": "<b>" + "x" * 300, "csrf_token": token})
    assert page.status_code == 422
    assert 'aria-invalid="true"' in page.text and "Enter at most 280 characters." in page.text
    assert "&lt;b&gt;xxx" in page.text  # what was typed, escaped
    blank = client.post("/posts", data={"text": "   ", "csrf_token": token})
    assert blank.status_code == 422


def test_posting_needs_a_login_and_the_csrf_token(client: TestClient) -> None:
    assert client.post("/posts", data={"text": "anonymous"}).status_code == 401
    sign_up(client)
    assert client.post("/posts", data={"text": "forged"}).status_code == 403


def test_logging_out(client: TestClient) -> None:
    sign_up(client)
    out = client.post("/auth/logout", data={"csrf_token": csrf_token(client, "/account")})
    assert out.status_code == 303
    assert client.get("/account", headers={"accept": "text/html"}).status_code == 303


# -- the API ---------------------------------------------------------------------------------


def test_the_api_with_a_bearer_token(client: TestClient) -> None:
    sign_up(client)
    client.cookies.clear()  # a script: no session, only the token
    headers = bearer(client)
    assert client.get("/api/me", headers=headers).json() == {"id": 1, "email": EMAIL, "posts": 0}
    created = client.post("/api/posts", json={"text": "From a script"}, headers=headers)
    assert created.status_code == 201
    post = created.json()
    assert (post["author"], post["text"]) == ("ada", "From a script")
    assert client.get(f"/api/posts/{post['id']}").json() == post  # reading is open
    assert client.get("/api/posts/999").status_code == 404
    listing = client.get("/api/posts", params={"limit": 1})
    assert listing.json()["items"] == [post] and listing.json()["total"] == 1
    assert listing.headers["x-total-count"] == "1"
    assert client.get("/api/me", headers=headers).json()["posts"] == 1


def test_the_api_refuses_writes_without_a_valid_token(client: TestClient) -> None:
    assert client.post("/api/posts", json={"text": "anonymous"}).status_code == 401
    forged = {"Authorization": "Bearer not-a-token"}
    assert client.post("/api/posts", json={"text": "x"}, headers=forged).status_code == 401
    wrong = client.post("/auth/token", data={"username": EMAIL, "password": "not the password"})
    assert wrong.status_code == 400
    sign_up(client)
    client.cookies.clear()
    invalid = client.post("/api/posts", json={"text": ""}, headers=bearer(client))
    assert invalid.status_code == 422


def test_the_api_is_documented(client: TestClient) -> None:
    assert client.get("/docs").status_code == 200
    document = client.get("/openapi.json").json()
    assert document["info"]["title"] == "brace showcase"
    paths = document["paths"]
    assert paths["/api/posts"]["post"]["security"] == [{"OAuth2PasswordBearer": []}]
    assert "security" not in paths["/api/posts"]["get"]
    assert "/auth/token" in paths
    assert not {"/", "/posts", "/account", "/feed"} & set(paths)  # pages stay out


def test_health_probes(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz").json()
    assert ready["status"] == "ok" and ready["checks"]["database"]["status"] == "ok"


# -- the live feed ---------------------------------------------------------------------------


def test_the_live_feed_announces_posts_from_the_form_and_the_api(client: TestClient) -> None:
    sign_up(client)
    with FeedReader(client, "/feed") as feed:
        assert feed.status == 200
        token = csrf_token(client, "/")
        client.post("/posts", data={"text": "<script>alert(1)</script>", "csrf_token": token})
        (first,) = feed.wait_for("post")
        assert (first["author"], first["text"]) == ("ada", "<script>alert(1)</script>")
        client.post("/api/posts", json={"text": "second"}, headers={"X-CSRF-Token": token})
        first_again, second = feed.wait_for("post", count=2)
        assert first_again == first and second["text"] == "second"
        assert f"id: {second['id']}\nevent: post" in feed.body.decode()
        feed.wait_for("", count=1)  # heartbeats keep a quiet stream open (0.05 s here)


def test_an_invalid_post_is_never_announced(client: TestClient) -> None:
    sign_up(client)
    with FeedReader(client, "/feed") as feed:
        token = csrf_token(client, "/")
        assert client.post("/posts", data={"text": " ", "csrf_token": token}).status_code == 422
        client.post("/posts", data={"text": "valid", "csrf_token": token})
        assert [post["text"] for post in feed.wait_for("post")] == ["valid"]


# -- settings --------------------------------------------------------------------------------


def test_production_refuses_the_development_secret(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="SITE_SECRET_KEY"):
        site.SiteSettings(env="prod", allowed_hosts=["example.com"], _env_file=None)


def test_the_database_directory_is_made_at_start_up(tmp_path: Path) -> None:
    database = tmp_path / "deep" / "var" / "site.db"
    with TestClient(site.create_app(showcase_settings(database))) as client:
        assert client.get("/api/posts").json()["total"] == 0
    assert database.is_file()
