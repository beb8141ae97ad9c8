"""The guestbook example (examples/guestbook) in headless Chromium, served by real uvicorn."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from brace import App, HTMLResponse
from support_examples import load_example

pytestmark = pytest.mark.browser

SECRET = "a-browser-test-secret-long-enough"
PHONE = {"width": 390, "height": 844}


def load_guestbook() -> ModuleType:
    return load_example("guestbook")


def one_pixel_png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)  # 1x1, 8-bit RGB
    pixels = zlib.compress(b"\x00\xff\x80\x00")  # filter byte, then one orange pixel
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )


@pytest.fixture
def guestbook(serve: Callable[[Any], str], tmp_path: Path) -> tuple[str, App]:
    """A fresh guestbook in development mode (plain HTTP), saving uploads under tmp_path."""
    app: App = load_guestbook().create_app(
        uploads_dir=tmp_path / "uploads", secret_key=SECRET, dev=True
    )
    return serve(app), app


@pytest.fixture
def dialogs() -> list[str]:
    return []


@pytest.fixture
def page(browser: Any, dialogs: list[str]) -> Iterator[Any]:
    """A phone-sized page in its own browser context; any alert() is recorded, then dismissed."""
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()


def submit(page: Any) -> Any:
    """Click "Sign" and return the response to the form's POST."""
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.get_by_role("button", name="Sign").click()
    page.wait_for_load_state()
    return posted.value


def fill(page: Any, name: str, message: str) -> None:
    page.get_by_label("Name").fill(name)
    page.get_by_label("Message").fill(message)


def test_signing_shows_the_entry_and_the_flash_once(
    guestbook: tuple[str, App], page: Any, tmp_path: Path
) -> None:
    base, _ = guestbook
    page.goto(base + "/")
    assert page.title() == "Guestbook"
    assert page.locator(".empty").inner_text() == "No entries yet. Be the first to sign!"
    fill(page, "Ada", "Hello from Chromium!\nSecond line.")
    assert submit(page).status == 303
    assert page.url == base + "/"
    assert page.locator(".flash").all_inner_texts() == ["Thanks for signing, Ada!"]
    assert page.locator(".entry-name").all_inner_texts() == ["Ada"]
    assert page.locator(".entry-message").inner_text() == "Hello from Chromium!\nSecond line."
    assert page.get_by_label("Name").input_value() == ""  # a fresh form after the redirect
    # Readable on a phone: the stylesheet loaded and nothing scrolls sideways.
    assert page.locator("main").evaluate("el => getComputedStyle(el).maxWidth") != "none"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot = tmp_path / "guestbook-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    page.reload()
    assert page.locator(".flash").count() == 0
    assert page.locator(".entry-name").all_inner_texts() == ["Ada"]


def test_an_invalid_form_comes_back_with_what_was_typed(
    guestbook: tuple[str, App], page: Any
) -> None:
    base, app = guestbook
    page.goto(base + "/")
    fill(page, "   ", "Kept message")
    assert submit(page).status == 422
    assert page.locator("#name-error").inner_text() == "Enter your name."
    assert page.get_by_label("Message").input_value() == "Kept message"
    assert page.get_by_label("Name").get_attribute("aria-invalid") == "true"
    fill(page, "Ada", "Kept message")  # correct it and send again: the new token is valid
    assert submit(page).status == 303
    assert [e.name for e in app.state.entries] == ["Ada"]


def test_markup_in_an_entry_is_shown_as_text_and_never_runs(
    guestbook: tuple[str, App], page: Any, dialogs: list[str]
) -> None:
    base, _ = guestbook
    name = "<img src=x onerror=alert(2)>"
    message = "<script>alert(1)</script>"
    page.goto(base + "/")
    fill(page, name, message)
    assert submit(page).status == 303
    assert page.locator(".flash").inner_text() == f"Thanks for signing, {name}!"
    page.reload(wait_until="load")  # the stored entry, rendered once more without the flash
    assert page.locator(".entry-name").inner_text() == name
    assert page.locator(".entry-message").inner_text() == message
    assert page.locator("main img, main script").count() == 0  # text nodes, not elements
    assert dialogs == []


def test_a_post_without_a_valid_token_is_refused(guestbook: tuple[str, App], page: Any) -> None:
    """Same origin, token removed or altered in the page: the token check answers 403."""
    base, app = guestbook
    page.goto(base + "/")
    fill(page, "Mallory", "no token")
    page.locator("input[name=csrf_token]").evaluate("input => input.remove()")
    response = submit(page)
    assert response.status == 403
    assert "CSRF token is missing" in page.locator("body").inner_text()
    page.goto(base + "/")
    fill(page, "Mallory", "bad token")
    page.locator("input[name=csrf_token]").evaluate("input => { input.value = 'forged' }")
    assert submit(page).status == 403
    assert "CSRF token is invalid" in page.locator("body").inner_text()
    assert app.state.entries == []


def evil_site(target: str) -> App:
    """Another site's page with a form that posts to the guestbook as soon as it loads."""
    evil = App()

    @evil.get("/")
    async def trap() -> HTMLResponse:
        return HTMLResponse(
            f'<form method="post" action="{target}/">'
            '<input name="name" value="Mallory"><input name="message" value="forged">'
            "</form><script>document.forms[0].submit()</script>"
        )

    return evil


def test_a_cross_origin_form_post_is_refused(
    guestbook: tuple[str, App], serve: Callable[[Any], str], page: Any
) -> None:
    """The victim holds a session; a page on another port of 127.0.0.1 posts to the guestbook.

    Ports do not make sites: the two origins are same-site, so Chromium sends the SameSite=Lax
    session cookie along, and brace's Origin check (here before the token check) refuses it.
    """
    base, app = guestbook
    page.goto(base + "/")
    assert [c["name"] for c in page.context.cookies()] == ["session"]
    evil = serve(evil_site(base))
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.goto(evil + "/")
    page.wait_for_load_state()
    assert posted.value.status == 403
    assert "session=" in posted.value.request.all_headers()["cookie"]  # same-site: it came
    assert posted.value.request.headers["origin"] == evil
    assert f"the request comes from another site ({evil})" in page.locator("body").inner_text()
    assert app.state.entries == []


def test_a_cross_site_form_post_is_refused(
    guestbook: tuple[str, App], serve: Callable[[Any], str], page: Any
) -> None:
    """The trap is on another site (localhost is not 127.0.0.1): Chromium keeps the SameSite=Lax
    cookie home, so there is no session to check a token against. Accepting the post would let
    its Set-Cookie replace the victim's session (login CSRF once there are logins)."""
    base, app = guestbook
    page.goto(base + "/")
    before = page.context.cookies()
    evil = serve(evil_site(base)).replace("127.0.0.1", "localhost")
    with page.expect_response(lambda r: r.request.method == "POST") as posted:
        page.goto(evil + "/")
    page.wait_for_load_state()
    assert "cookie" not in posted.value.request.all_headers()  # SameSite=Lax at work
    assert posted.value.status == 403
    assert "CSRF check failed" in page.locator("body").inner_text()
    assert page.context.cookies() == before  # the victim's session was left alone
    assert app.state.entries == []


def test_an_upload_is_shown_and_served_back(guestbook: tuple[str, App], page: Any) -> None:
    base, _ = guestbook
    png = one_pixel_png()
    page.goto(base + "/")
    fill(page, "Ada", "A picture")
    page.get_by_label("Picture or text file").set_input_files(
        files=[{"name": "dot.png", "mimeType": "image/png", "buffer": png}]
    )
    assert submit(page).status == 303
    picture = page.locator(".entry img")
    assert picture.get_attribute("alt") == "dot.png"
    assert picture.evaluate("img => img.complete && img.naturalWidth") == 1  # it decoded
    fill(page, "Grace", "A note")
    page.get_by_label("Picture or text file").set_input_files(
        files=[{"name": "../../note.txt", "mimeType": "text/plain", "buffer": b"Hi there!"}]
    )
    assert submit(page).status == 303
    link = page.get_by_role("link", name="note.txt")
    href = link.get_attribute("href")
    assert href.startswith("/uploads/") and href.endswith("-note.txt")
    with page.expect_response(lambda r: r.url == base + href) as served:
        link.click()
    assert served.value.status == 200
    assert served.value.headers["content-type"] == "text/plain; charset=utf-8"
    assert page.locator("body").inner_text() == "Hi there!"
    page.go_back()
    src = page.locator(".entry img").get_attribute("src")
    assert page.request.get(base + src).body() == png


def test_an_oversized_upload_shows_a_readable_page(guestbook: tuple[str, App], page: Any) -> None:
    base, app = guestbook
    page.goto(base + "/")
    fill(page, "Ada", "Too big")
    page.get_by_label("Picture or text file").set_input_files(
        files=[{"name": "big.png", "mimeType": "image/png", "buffer": b"\0" * (3 * 2**20)}]
    )
    assert submit(page).status == 413
    assert page.locator("#attachment-error").inner_text() == "Attach a file of at most 2 MiB."
    assert page.get_by_role("button", name="Sign").is_visible()
    assert app.state.entries == []
