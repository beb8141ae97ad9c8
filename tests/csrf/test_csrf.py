"""CSRF: on by default with sessions, token in a form field or header, Origin/Referer checks,
exemptions, and requests without the session cookie left alone."""

import re
from pathlib import Path
from typing import Annotated, Any

import msgspec
import pytest

from brace import App, Form, FormResult, Request, UploadFile
from brace.csrf import csrf_exempt, csrf_token
from brace.sessions import SessionMiddleware
from brace.templating import Templates
from brace.testing import TestClient

SECRET = "a-test-secret-that-is-long-enough"
TOKEN_INPUT = re.compile(r'name="csrf_token" value="([^"]+)"')


class Note(msgspec.Struct):
    text: str


def make_app(tmp_path: Path, **options: Any) -> App:
    (tmp_path / "form.html").write_text("<form method=post>{{ csrf_input() }}</form>")
    (tmp_path / "token.html").write_text("{{ csrf_token() }}")
    templates = Templates(tmp_path)
    app = App()
    app.add_middleware(SessionMiddleware, secret_key=SECRET, **options)

    @app.get("/form")
    async def form(request: Request) -> Any:
        request.session["user"] = "ada"
        return templates.render(request, "form.html")

    @app.get("/token")
    async def token(request: Request) -> Any:
        return templates.render(request, "token.html")

    @app.post("/notes")
    async def notes(note: Annotated[Note, Form()]) -> str:
        return note.text

    @app.post("/result")
    async def result(form: FormResult[Note]) -> str:
        return "ok" if form.ok else "invalid"

    @app.post("/upload")
    async def upload(file: UploadFile) -> int:
        return file.size

    @app.put("/api/thing")
    async def api_thing(request: Request) -> Any:
        return await request.json()

    @app.post("/hook")
    @csrf_exempt
    async def hook() -> str:
        return "hooked"

    @csrf_exempt
    @app.post("/hook2")
    async def hook2() -> str:
        return "hooked"

    @app.post("/login")
    async def login(request: Request) -> str:
        request.session.rotate()  # type: ignore[attr-defined]
        return "in"

    return app


@pytest.fixture
def app(tmp_path: Path) -> App:
    return make_app(tmp_path)


def page_token(client: TestClient) -> str:
    match = TOKEN_INPUT.search(client.get("/form").text)
    assert match is not None
    return match.group(1)


def test_form_post_with_the_token_passes(app: App) -> None:
    with TestClient(app) as client:
        token = page_token(client)
        r = client.post("/notes", data={"text": "hello", "csrf_token": token})
        assert r.status_code == 200 and r.text == "hello"
        # The token field does not disturb typed forms or FormResult.
        assert client.post("/result", data={"text": "x", "csrf_token": token}).text == "ok"


def test_missing_token_is_403_with_a_reason(app: App) -> None:
    with TestClient(app) as client:
        page_token(client)
        r = client.post("/notes", data={"text": "hello"})
        assert r.status_code == 403
        assert r.headers["content-type"] == "application/problem+json"
        assert "CSRF token is missing" in r.json()["detail"]


def test_browsers_get_a_page(app: App) -> None:
    with TestClient(app) as client:
        page_token(client)
        r = client.post("/notes", data={"text": "x"}, headers={"accept": "text/html"})
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert "CSRF token is missing" in r.text


@pytest.mark.parametrize(
    "bad",
    ["", "x", "A" * 86, "not base64 !!", "é" * 40, "A" * 5000, "' OR 1=1 --", "<script>"],
)
def test_wrong_tokens_are_403(app: App, bad: str) -> None:
    with TestClient(app) as client:
        page_token(client)
        r = client.post("/notes", data={"text": "x", "csrf_token": bad})
        assert r.status_code == 403


def test_a_token_from_another_session_is_refused(tmp_path: Path) -> None:
    app = make_app(tmp_path)
    with TestClient(app) as victim, TestClient(app) as attacker:
        page_token(victim)
        stolen_from_attacker = page_token(attacker)
        r = victim.post("/notes", data={"text": "x", "csrf_token": stolen_from_attacker})
        assert r.status_code == 403
        assert "invalid" in r.json()["detail"]


def test_tokens_are_masked_differently_each_time(app: App) -> None:
    with TestClient(app) as client:
        first, second = page_token(client), page_token(client)
        assert first != second
        for token in (first, second):
            assert client.post("/notes", data={"text": "x", "csrf_token": token}).status_code == 200


def test_header_token_for_scripts(app: App) -> None:
    with TestClient(app) as client:
        token = client.get("/token").text
        r = client.put("/api/thing", json={"a": 1}, headers={"X-CSRF-Token": token})
        assert r.json() == {"a": 1}
        assert client.put("/api/thing", json={"a": 1}).status_code == 403


def test_multipart_forms_carry_the_token(app: App) -> None:
    with TestClient(app) as client:
        token = page_token(client)
        r = client.post("/upload", data={"csrf_token": token}, files={"file": ("a", b"123")})
        assert r.text == "3"
        assert client.post("/upload", files={"file": ("a", b"123")}).status_code == 403


def test_cross_site_origin_is_refused_even_with_a_token(app: App) -> None:
    with TestClient(app) as client:
        token = page_token(client)
        for origin in ("https://evil.example", "null", "http://testserver"):
            r = client.post(
                "/notes", data={"text": "x", "csrf_token": token}, headers={"Origin": origin}
            )
            assert r.status_code == 403, origin
            assert "another site" in r.json()["detail"]


def test_https_without_origin_needs_a_same_site_referer(app: App) -> None:
    # TestClient sends the site's Origin like a browser; send_origin=False leaves it out.
    with TestClient(app, send_origin=False) as client:
        token = page_token(client)
        data = {"text": "x", "csrf_token": token}
        r = client.post("/notes", data=data)
        assert r.status_code == 403
        r = client.post("/notes", data=data, headers={"Referer": "https://evil.example/"})
        assert r.status_code == 403 and "Referer" in r.json()["detail"]
        r = client.post("/notes", data=data, headers={"Referer": "garbage"})
        assert r.status_code == 403
        ok = client.post("/notes", data=data, headers={"Referer": "https://testserver/form"})
        assert ok.status_code == 200


def test_plain_http_without_origin_relies_on_the_token(tmp_path: Path) -> None:
    app = make_app(tmp_path, https_only=False)  # a Secure cookie would not travel over http
    with TestClient(app, base_url="http://testserver", send_origin=False) as client:
        token = page_token(client)
        r = client.post("/notes", data={"text": "x", "csrf_token": token})
        assert r.status_code == 200
        assert client.post("/notes", data={"text": "x"}).status_code == 403


def test_trusted_origins(tmp_path: Path) -> None:
    app = make_app(tmp_path, csrf_trusted_origins=["https://admin.example"])
    with TestClient(app) as client:
        token = page_token(client)
        headers = {"Origin": "https://admin.example"}
        r = client.post("/notes", data={"text": "x", "csrf_token": token}, headers=headers)
        assert r.status_code == 200


def test_exempt_handlers(app: App) -> None:
    with TestClient(app) as client:
        page_token(client)
        assert client.post("/hook").text == "hooked"
        assert client.post("/hook2").text == "hooked"


def test_requests_without_the_session_cookie_are_not_checked(app: App) -> None:
    with TestClient(app) as client:
        r = client.post("/notes", data={"text": "x"}, headers={"Authorization": "Bearer abc"})
        assert r.status_code == 200
        r = client.put("/api/thing", json={"a": 1}, headers={"Origin": "https://evil.example"})
        assert r.status_code == 200


def test_safe_methods_are_not_checked(app: App) -> None:
    with TestClient(app) as client:
        page_token(client)
        assert client.get("/token", headers={"Origin": "https://evil.example"}).status_code == 200
        assert client.head("/form").status_code == 200
        assert client.options("/notes").status_code in (200, 204)


def test_forged_session_cookie_cannot_pass(app: App) -> None:
    with TestClient(app, cookies={"session": "forged.value"}) as client:
        r = client.post("/notes", data={"text": "x", "csrf_token": "A" * 86})
        assert r.status_code == 403


def test_rotation_at_login_renews_the_secret(app: App) -> None:
    with TestClient(app) as client:
        before = page_token(client)
        assert client.post("/login", headers={"X-CSRF-Token": before}).text == "in"
        r = client.post("/notes", data={"text": "x", "csrf_token": before})
        assert r.status_code == 403
        after = page_token(client)
        assert client.post("/notes", data={"text": "x", "csrf_token": after}).status_code == 200


def test_csrf_can_be_turned_off(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path, csrf=False)) as client:
        page_token(client)
        assert client.post("/notes", data={"text": "x"}).status_code == 200


def test_refused_multipart_closes_its_files(app: App) -> None:
    with TestClient(app) as client:
        page_token(client)
        r = client.post("/upload", data={"csrf_token": "bad"}, files={"file": ("a", b"1" * 10)})
        assert r.status_code == 403


def test_csrf_token_without_sessions_is_a_clear_error(caplog: pytest.LogCaptureFixture) -> None:
    app = App()

    @app.get("/t")
    async def t(request: Request) -> str:
        return csrf_token(request)

    with TestClient(app) as client:
        assert client.get("/t").status_code == 500
    assert "csrf_token() needs sessions: app.add_middleware(SessionMiddleware" in caplog.text


def test_cross_site_form_posts_without_a_session_are_refused(app: App) -> None:
    """Login CSRF: SameSite keeps the victim's cookie home, but a forged form must not plant
    a session of the attacker's either."""
    with TestClient(app) as client:
        evil = {"Origin": "https://evil.example"}
        r = client.post("/login", data={"user": "attacker"}, headers=evil)
        assert r.status_code == 403 and "another site" in r.json()["detail"]
        assert "set-cookie" not in r.headers
        r = client.post("/login", content=b"x", headers={**evil, "content-type": "text/plain"})
        assert r.status_code == 403
        r = client.post("/login", headers={"Sec-Fetch-Site": "cross-site"})
        assert r.status_code == 403
        # Same-site forms, and cross-origin JSON (preflighted by browsers), pass.
        assert client.post("/login", data={"user": "me"}).status_code == 200


def test_cross_origin_json_without_a_session_is_allowed(tmp_path: Path) -> None:
    with TestClient(make_app(tmp_path)) as client:
        r = client.put("/api/thing", json={"a": 1}, headers={"Origin": "https://spa.example"})
        assert r.status_code == 200
