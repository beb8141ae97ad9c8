"""The showcase (examples/site) in headless Chromium, served by real uvicorn over plain HTTP as
`./scripts/showcase.sh` serves it: sign up, post through the form, see the post reach another
window's live feed, and read the API docs, all under the site's strict CSP."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support_examples import load_example

pytestmark = pytest.mark.browser

EMAIL = "grace@example.com"
PASSWORD = "a long and unusual passphrase"
XSS = "<img src=x onerror=alert(1)> hello from the form"


def load_site() -> ModuleType:
    return load_example("site")


@pytest.fixture
def base(serve: Callable[[Any], str], tmp_path: Path) -> str:
    """A fresh site in development mode (plain HTTP), its database under tmp_path."""
    site = load_site()
    settings = site.SiteSettings(
        env="dev",
        secret_key="a-browser-test-secret-long-enough-for-jwts",
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'var' / 'site.db'}",
        _env_file=None,
    )
    return serve(site.create_app(settings))


class Visitor:
    """One browser context (its own cookies) and page; records dialogs, console errors (CSP
    violations and failed loads included), page errors and server errors."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context()
        self.page = self.context.new_page()
        self.problems: list[str] = []

        def on_dialog(dialog: Any) -> None:
            self.problems.append(f"dialog: {dialog.message}")
            dialog.dismiss()

        def on_console(message: Any) -> None:
            if message.type == "error":
                self.problems.append(message.text)

        self.page.on("dialog", on_dialog)
        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))
        self.page.on(
            "response",
            lambda r: self.problems.append(f"{r.status} {r.url}") if r.status >= 500 else None,
        )


@pytest.fixture
def visitors(browser: Any) -> Iterator[Callable[[], Visitor]]:
    made: list[Visitor] = []

    def new() -> Visitor:
        made.append(Visitor(browser))
        return made[-1]

    yield new
    # Closing the pages closes their feeds, so the server can stop.
    for visitor in made:
        visitor.context.close()


def test_sign_up_post_and_watch_the_live_feed(base: str, visitors: Callable[[], Visitor]) -> None:
    from playwright.sync_api import expect

    watcher = visitors()
    watcher.page.goto(base + "/")
    expect(watcher.page.locator("#feed-status")).to_have_text("live")

    grace = visitors()
    grace.page.goto(base + "/")
    grace.page.get_by_role("navigation").get_by_role("link", name="Sign up").click()
    grace.page.get_by_label("Email").fill(EMAIL)
    grace.page.get_by_label("Password").fill(PASSWORD)
    grace.page.get_by_label("Repeat it").fill(PASSWORD)
    grace.page.get_by_role("button", name="Sign up").click()
    expect(grace.page).to_have_url(base + "/")
    expect(grace.page.get_by_role("link", name=EMAIL)).to_be_visible()

    # The form comes back with its error, and what was typed, when the post is too long.
    # (The browser stops typing at maxlength=280: take the limit off, as a script could.)
    grace.page.evaluate("document.getElementById('text').removeAttribute('maxlength')")
    grace.page.get_by_label("What is new, grace?").fill("x" * 281)
    grace.page.get_by_role("button", name="Post").click()
    expect(grace.page.locator("#text-error")).to_have_text("Enter at most 280 characters.")

    grace.page.get_by_label("What is new, grace?").fill(XSS)
    grace.page.get_by_role("button", name="Post").click()
    expect(grace.page.get_by_role("status").first).to_have_text(
        "Posted: every open page shows it now."
    )
    expect(grace.page.locator("#feed .post .text").first).to_have_text(XSS)

    # The watcher's page never reloaded: the post came through the live feed, as text.
    fresh = watcher.page.locator("#feed .post.fresh")
    expect(fresh).to_have_count(1)
    expect(fresh.locator(".author")).to_have_text("grace")
    expect(fresh.locator(".text")).to_have_text(XSS)
    expect(watcher.page.locator("#feed-empty")).to_have_count(0)
    assert watcher.page.locator("#feed img").count() == 0

    grace.page.get_by_role("link", name=EMAIL).click()
    expect(grace.page.locator("#email")).to_have_text(EMAIL)
    expect(grace.page.locator("#post-count")).to_have_text("1")
    grace.page.get_by_role("button", name="Log out").click()
    expect(grace.page.get_by_text("You have been logged out.")).to_be_visible()

    assert watcher.problems == []
    # Chromium logs the page that came back with 422 (the too-long post): that one is expected.
    assert [p for p in grace.problems if "status of 422" not in p] == []


def test_the_api_docs_render_under_the_sites_csp(
    base: str, visitors: Callable[[], Visitor]
) -> None:
    from playwright.sync_api import expect

    reader = visitors()
    reader.page.goto(base + "/docs")
    operation = reader.page.locator(".opblock-summary-path", has_text="/api/posts")
    expect(operation.first).to_be_visible(timeout=15000)
    expect(reader.page.get_by_role("button", name="Authorize")).to_be_visible()
    operation.first.click()
    reader.page.get_by_role("button", name="Try it out").click()
    reader.page.get_by_role("button", name="Execute").click()
    status = reader.page.locator(".live-responses-table tbody .response-col_status").first
    expect(status).to_have_text("200")
    assert reader.problems == []
