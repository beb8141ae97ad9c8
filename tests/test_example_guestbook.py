"""The guestbook example (examples/guestbook), driven in-process like a browser would."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from brace import App
from brace.testing import TestClient
from support_examples import load_example

SECRET = "a-test-secret-of-enough-length"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


def load_guestbook() -> ModuleType:
    return load_example("guestbook")


guestbook = load_guestbook()


@pytest.fixture
def uploads(tmp_path: Path) -> Path:
    return tmp_path / "uploads"


@pytest.fixture
def app(uploads: Path) -> App:
    made: App = guestbook.create_app(uploads_dir=uploads, secret_key=SECRET, dev=False)
    return made


@pytest.fixture
def client(app: App) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as client:
        yield client


def token_of(page: str) -> str:
    found = TOKEN.search(page)
    assert found is not None, "the form has no csrf_token input"
    return found.group(1)


def sign(
    client: TestClient,
    name: str = "Ada",
    message: str = "Hello!",
    files: dict[str, Any] | None = None,
    **extra: str,
) -> Any:
    """Load the page, then submit the form with the token it carries."""
    token = token_of(client.get("/").text)
    data = {"name": name, "message": message, "csrf_token": token, **extra}
    return client.post("/", data=data, files=files)


def entries_of(page: str) -> list[str]:
    return re.findall(r'<strong class="entry-name">(.*?)</strong>', page)


def test_empty_page_has_the_form_and_no_entries(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert page.headers["content-type"] == "text/html; charset=utf-8"
    assert "No entries yet" in page.text
    for field in ('name="name"', 'name="message"', 'name="attachment"', 'type="file"'):
        assert field in page.text
    assert 'enctype="multipart/form-data"' in page.text
    token_of(page.text)
    assert "session=" in page.headers["set-cookie"]  # the CSRF secret lives in the session
    assert "default-src 'none'" in page.headers["content-security-policy"]
    css = client.get("/static/style.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert 'href="/static/style.css"' in page.text


def test_signing_redirects_flashes_once_and_lists_newest_first(client: TestClient) -> None:
    first = sign(client, "Ada", "First!")
    assert first.status_code == 303 and first.headers["location"] == "/"
    page = client.get("/").text
    assert page.count("Thanks for signing, Ada!") == 1
    assert "Thanks for signing, Ada!" not in client.get("/").text  # shown once
    sign(client, "Grace", "Second\nwith two lines")
    page = client.get("/").text
    assert "Thanks for signing, Grace!" in page and "Thanks for signing, Ada!" not in page
    assert entries_of(page) == ["Grace", "Ada"]
    assert "Second\nwith two lines" in page
    assert "No entries yet" not in page


@pytest.mark.parametrize(
    ("name", "message", "errors"),
    [
        ("", "Hello", {"name": "This field is required."}),
        ("A" * 41, "Hello", {"name": "Enter at most 40 characters."}),
        ("Ada", "x" * 501, {"message": "Enter at most 500 characters."}),
        ("   ", "Hello", {"name": "Enter your name."}),
        ("", "  \n ", {"name": "This field is required.", "message": "Write a message."}),
    ],
)
def test_invalid_form_comes_back_with_the_input_and_a_message_per_field(
    client: TestClient, app: App, name: str, message: str, errors: dict[str, str]
) -> None:
    response = sign(client, name, message)
    assert response.status_code == 422
    page = response.text
    for field, text in errors.items():
        assert f'<p class="field-error" id="{field}-error">{text}</p>' in page
    for field in {"name", "message"} - set(errors):
        assert f'id="{field}-error"' not in page
    assert f'value="{name}"' in page  # what was typed is kept
    assert f">\n{message}</textarea>" in page
    token_of(page)  # the page can be submitted again
    assert app.state.entries == []


def test_markup_is_stored_as_typed_and_shown_escaped(client: TestClient, app: App) -> None:
    name = "<img src=x onerror=alert(2)>"
    message = '<script>alert(1)</script>"quoted" & done'
    assert sign(client, name, message).status_code == 303
    assert app.state.entries[0].name == name  # stored verbatim...
    page = client.get("/").text
    assert html.escape(name, quote=False) in page  # ...and escaped on the page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert f"Thanks for signing, {html.escape(name)}!" in page  # the flash too
    assert "<script>" not in page and "<img src=x" not in page


def test_markup_in_a_rejected_form_is_escaped_in_the_fields(client: TestClient) -> None:
    hostile = '"><script>alert(3)</script>'
    page = sign(client, hostile, "</textarea><script>alert(4)</script>" + "x" * 500).text
    assert 'value="&#34;&gt;&lt;script&gt;alert(3)&lt;/script&gt;"' in page
    assert "&lt;/textarea&gt;&lt;script&gt;alert(4)" in page
    assert "<script>" not in page


@pytest.mark.parametrize(
    ("token", "headers"),
    [
        (None, {}),
        ("", {}),
        ("not-a-token", {}),
        ("A" * 86, {}),
        ("valid", {"Origin": "https://evil.example"}),
    ],
    ids=["missing", "empty", "garbage", "wrong", "foreign-origin"],
)
def test_posts_without_a_valid_token_are_refused(
    client: TestClient, app: App, token: str | None, headers: dict[str, str]
) -> None:
    page = client.get("/").text  # the browser now holds the session cookie
    data = {"name": "Mallory", "message": "forged"}
    if token is not None:
        data["csrf_token"] = token_of(page) if token == "valid" else token
    response = client.post("/", data=data, headers={"Accept": "text/html", **headers})
    assert response.status_code == 403
    assert "CSRF check failed" in response.text
    assert app.state.entries == []


def test_a_token_from_another_session_is_refused(app: App) -> None:
    with TestClient(app) as other:
        stolen = token_of(other.get("/").text)
    with TestClient(app, follow_redirects=False) as client:
        client.get("/")
        data = {"name": "Mallory", "message": "forged", "csrf_token": stolen}
        assert client.post("/", data=data).status_code == 403
    assert app.state.entries == []


def test_an_upload_is_saved_linked_and_served_back(client: TestClient, uploads: Path) -> None:
    files = {"attachment": ("cat picture.png", PNG, "image/png")}
    assert sign(client, "Ada", "Look!", files=files).status_code == 303
    page = client.get("/").text
    link = re.search(r'<a href="(/uploads/[^"]+)" class="attachment-link">([^<]+)</a>', page)
    assert link is not None
    assert link.group(2) == "cat picture.png"
    assert re.fullmatch(r"/uploads/[0-9a-f]{32}-cat%20picture\.png", link.group(1))
    assert f'<img src="{link.group(1)}" alt="cat picture.png">' in page
    served = client.get(link.group(1))
    assert served.status_code == 200
    assert served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    [saved] = uploads.iterdir()
    assert saved.read_bytes() == PNG and saved.name.endswith("-cat picture.png")


def test_an_empty_file_input_means_no_attachment(client: TestClient, app: App) -> None:
    files = {"attachment": ("", b"", "application/octet-stream")}
    assert sign(client, files=files).status_code == 303
    assert app.state.entries[0].file is None
    assert 'class="attachment-link"' not in client.get("/").text


@pytest.mark.parametrize(
    "filename", ["../../x.txt", "..\\..\\x.txt", "/etc/x.txt", "C:\\temp\\x.txt", ".x.txt"]
)
def test_a_hostile_file_name_stays_inside_the_uploads_dir(
    client: TestClient, uploads: Path, tmp_path: Path, filename: str
) -> None:
    files = {"attachment": (filename, b"harmless", "text/plain")}
    assert sign(client, files=files).status_code == 303
    [saved] = uploads.iterdir()  # nothing written anywhere else
    assert sorted(p.name for p in tmp_path.iterdir()) == ["uploads"]
    assert re.fullmatch(r"[0-9a-f]{32}-x\.txt", saved.name)
    link = re.search(r'href="(/uploads/[^"]+)"', client.get("/").text)
    assert link is not None
    assert client.get(link.group(1)).content == b"harmless"


def test_a_very_long_file_name_is_shortened_to_fit_the_file_system(
    client: TestClient, uploads: Path
) -> None:
    files = {"attachment": ("é" * 200 + ".txt", b"long", "text/plain")}
    assert sign(client, files=files).status_code == 303
    [saved] = uploads.iterdir()
    assert len(saved.name.encode()) <= 255 and saved.name.endswith(".txt")


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [("page.html", "text/html"), ("logo.svg", "image/svg+xml"), ("run.exe", "image/png")],
)
def test_files_a_browser_could_run_are_refused(
    client: TestClient, uploads: Path, filename: str, content_type: str
) -> None:
    files = {"attachment": (filename, b"<script>alert(5)</script>", content_type)}
    response = sign(client, "Ada", "Here", files=files)
    assert response.status_code == 422
    assert "Attach an image (PNG, JPEG, GIF, WebP) or a .txt file." in response.text
    assert 'value="Ada"' in response.text
    assert not uploads.exists() or not any(uploads.iterdir())


def test_an_oversized_upload_gets_a_readable_413_page(
    client: TestClient, app: App, uploads: Path
) -> None:
    files = {"attachment": ("big.png", b"\0" * (2 * 1024 * 1024 + 1), "image/png")}
    response = sign(client, "Ada", "Too big", files=files)
    assert response.status_code == 413
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "Attach a file of at most 2 MiB." in response.text
    token_of(response.text)  # the form is there to try again
    assert app.state.entries == []
    assert not any(uploads.iterdir())
    exactly = {"attachment": ("ok.png", b"\0" * (2 * 1024 * 1024), "image/png")}
    assert sign(client, files=exactly).status_code == 303


def test_old_entries_and_their_files_are_dropped(
    client: TestClient, app: App, uploads: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(guestbook, "MAX_ENTRIES", 2)
    for number in range(3):
        files = {"attachment": (f"{number}.txt", b"n", "text/plain")}
        assert sign(client, f"Signer {number}", "hi", files=files).status_code == 303
    assert [e.name for e in app.state.entries] == ["Signer 2", "Signer 1"]
    assert sorted(p.name[-5:] for p in uploads.iterdir()) == ["1.txt", "2.txt"]


def test_session_cookie_is_secure_unless_in_development(uploads: Path) -> None:
    for dev, secure in ((False, True), (True, False)):
        app = guestbook.create_app(uploads_dir=uploads, secret_key=SECRET, dev=dev)
        with TestClient(app, base_url="http://127.0.0.1:8000") as client:
            cookie = client.get("/").headers["set-cookie"]
            assert ("; Secure" in cookie) is secure
            assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
            if dev:  # the cookie came back over plain HTTP, so signing works there
                assert sign(client).status_code == 303


def test_settings_come_from_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GUESTBOOK_UPLOADS", str(tmp_path / "from-env"))
    monkeypatch.setenv("GUESTBOOK_SECRET", "another-secret-from-the-environment")
    monkeypatch.setenv("GUESTBOOK_DEV", "1")
    app = guestbook.create_app()
    assert app.debug is True
    assert app.state.uploads_dir == tmp_path / "from-env"
    with TestClient(app) as client:
        assert (tmp_path / "from-env").is_dir()  # made at start-up
        files = {"attachment": ("a.txt", b"a", "text/plain")}
        assert sign(client, files=files).status_code == 303
    assert len(list((tmp_path / "from-env").iterdir())) == 1
    monkeypatch.delenv("GUESTBOOK_DEV")
    assert guestbook.create_app().debug is False
