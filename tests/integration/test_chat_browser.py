"""The chat example (examples/chat) in headless Chromium, served by real uvicorn: two people in
one room, markup that stays text, and the home page's live activity feed."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from support_examples import load_example

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844}
XSS_NAME = "<img src=x onerror=alert(1)>"
XSS_TEXT = "<script>alert(2)</script><b>bold?</b>"


def load_chat() -> ModuleType:
    return load_example("chat")


@pytest.fixture
def base(serve: Callable[[Any], str]) -> str:
    """A fresh chat (rooms in memory) on a real socket."""
    return serve(load_chat().create_app("memory://"))


class Person:
    """One browser context (its own storage), one phone-sized page; records what went wrong."""

    def __init__(self, browser: Any) -> None:
        self.context = browser.new_context(viewport=PHONE)
        self.page = self.context.new_page()
        self.dialogs: list[str] = []
        self.problems: list[str] = []  # console errors (CSP violations included), page errors

        def on_dialog(dialog: Any) -> None:
            self.dialogs.append(dialog.message)
            dialog.dismiss()

        def on_console(message: Any) -> None:
            if message.type == "error":
                self.problems.append(message.text)

        self.page.on("dialog", on_dialog)
        self.page.on("console", on_console)
        self.page.on("pageerror", lambda error: self.problems.append(str(error)))

    def join(self, base: str, room: str, name: str) -> None:
        """Join `room` (opening its page, unless it is already open) as `name`."""
        from playwright.sync_api import expect

        if self.page.url != f"{base}/rooms/{room}":
            self.page.goto(f"{base}/rooms/{room}")
        self.page.get_by_label("Your name").fill(name)
        self.page.get_by_role("button", name="Join").click()
        expect(self.page.get_by_label("Message")).to_be_visible()
        expect(self.page.locator("#status")).to_have_text(f"In #{room} as {name}")

    def say(self, text: str) -> None:
        self.page.get_by_label("Message").fill(text)
        self.page.get_by_label("Message").press("Enter")


@pytest.fixture
def people(browser: Any) -> Iterator[Callable[[], Person]]:
    made: list[Person] = []

    def make() -> Person:
        person = Person(browser)
        made.append(person)
        return person

    yield make
    for person in made:
        person.context.close()


def test_two_people_in_a_room_see_each_others_messages(
    base: str, people: Callable[[], Person], tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    ada, bob = people(), people()
    ada.join(base, "lobby", "Ada")
    bob.join(base, "lobby", "Bob")
    expect(ada.page.locator(".notice").last).to_contain_text("Bob joined")
    ada.say("Hello Bob!")
    bob.say("Hi Ada, from another browser.")
    for person in (ada, bob):
        messages = person.page.locator(".message")
        expect(messages).to_have_count(2)
        expect(messages.locator(".who")).to_have_text(["Ada", "Bob"])
        expect(messages.locator(".text")).to_have_text(
            ["Hello Bob!", "Hi Ada, from another browser."]
        )
        # The server's clock, shown as the reader's local time.
        assert messages.first.locator("time").get_attribute("datetime").endswith("Z")
    assert ada.page.get_by_label("Message").input_value() == ""  # cleared after sending
    # Readable on a phone: the stylesheet loaded and nothing scrolls sideways.
    page = ada.page
    assert page.locator("main").evaluate("el => getComputedStyle(el).maxWidth") != "none"
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot = tmp_path / "chat-phone.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    bob.context.close()  # Bob closes the tab: Ada sees him leave
    expect(ada.page.locator(".notice").last).to_contain_text("Bob left")
    assert ada.problems == [] and bob.problems == []  # the CSP let the page do everything


def test_markup_in_names_and_messages_is_shown_as_text(
    base: str, people: Callable[[], Person]
) -> None:
    from playwright.sync_api import expect

    mallory, ada = people(), people()
    ada.join(base, "safe-room", "Ada")
    mallory.join(base, "safe-room", XSS_NAME)
    mallory.say(XSS_TEXT)
    for person in (ada, mallory):
        message = person.page.locator(".message")
        expect(message.locator(".text")).to_have_text(XSS_TEXT)
        expect(message.locator(".who")).to_have_text(XSS_NAME)
        assert person.page.locator("#messages img, #messages script, #messages b").count() == 0
    expect(ada.page.locator(".notice").last).to_contain_text(f"{XSS_NAME} joined")
    assert mallory.page.title() == "#safe-room · Chat"
    # The input's maxlength stops typing at 500; a page script could still send more, and
    # the server's error frame is shown.
    mallory.page.get_by_label("Message").evaluate("input => input.removeAttribute('maxlength')")
    mallory.say("x" * 501)
    error = mallory.page.locator("#error")
    expect(error).to_have_text("Not sent: Expected `str` of length <= 500")
    mallory.say("sorry")
    expect(ada.page.locator(".message .text")).to_have_text([XSS_TEXT, "sorry"])
    expect(error).to_be_hidden()
    assert ada.dialogs == [] and mallory.dialogs == []


def test_the_home_page_feed_shows_who_joined_and_what_they_said(
    base: str, people: Callable[[], Person]
) -> None:
    from playwright.sync_api import expect

    watcher, ada = people(), people()
    watcher.page.goto(base + "/")
    expect(watcher.page.locator("#feed-status")).to_have_text("live")  # subscribed
    ada.page.goto(base + "/")
    ada.page.get_by_label("Open a room").fill("Book Club!")  # typed, then made a slug
    ada.page.get_by_role("button", name="Open").click()
    expect(ada.page).to_have_url(base + "/rooms/book-club")
    ada.join(base, "book-club", XSS_NAME)
    joined = watcher.page.locator("#activity li").first
    expect(joined).to_contain_text(f"{XSS_NAME} joined #book-club")
    assert joined.get_by_role("link").get_attribute("href") == "/rooms/book-club"
    ada.say("Chapter one <i>was</i> long")
    newest = watcher.page.locator("#activity li").first
    expect(newest).to_contain_text(f"{XSS_NAME} in #book-club: Chapter one <i>was</i> long")
    assert watcher.page.locator("#activity img, #activity i").count() == 0
    expect(watcher.page.locator("#activity-empty")).to_be_hidden()
    watcher.page.locator("#activity li").last.get_by_role("link").click()  # to the room
    expect(watcher.page.get_by_role("heading", name="#book-club")).to_be_visible()
    assert watcher.dialogs == [] and watcher.problems == [] and ada.problems == []
