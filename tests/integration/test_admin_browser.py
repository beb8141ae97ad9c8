"""The admin in headless Chromium against real uvicorn: a staff user logs in, sees a
validation error, creates, searches, filters, edits and deletes a record; a non-staff user is
refused. Screenshots of the list and edit pages are saved as artifacts."""

from __future__ import annotations

import enum
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from brace import App
from brace.admin import Admin
from brace.auth import Auth, auth_views
from brace.db import Database, Model
from brace.sessions import SessionMiddleware

pytestmark = pytest.mark.browser

PASSWORD = "a long admin browser passphrase"
WAIT = 15_000


class Shelf(enum.Enum):
    fiction = "fiction"
    science = "science"


class BrowserBook(Model):
    title: Mapped[str] = mapped_column(String(100))
    shelf: Mapped[Shelf] = mapped_column(default=Shelf.fiction)
    pages: Mapped[int] = mapped_column(default=0)
    in_stock: Mapped[bool] = mapped_column(default=True)


def make_app(tmp_path: Path) -> App:
    from brace.auth import User

    app = App()
    app.add_middleware(
        SessionMiddleware, secret_key="an-admin-browser-secret-long-enough", https_only=False
    )
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'admin.db'}", app=app)
    Auth(app)
    app.include(auth_views())
    admin = Admin(app)
    admin.register(BrowserBook, search_fields=["title"], list_filter=["shelf", "in_stock"])

    @app.on_startup
    async def seed() -> None:
        await db.create_all()
        async with db.session() as session:
            staff = User(email="staff@example.com", is_staff=True, is_superuser=True)
            reader = User(email="reader@example.com")
            for user in (staff, reader):
                user.set_password(PASSWORD)
            session.add_all([staff, reader, BrowserBook(title="Dune", pages=412)])
            await session.commit()

    return app


def log_in(page: Any, base: str, email: str) -> None:
    page.goto(base + "/admin/")
    page.wait_for_url("**/auth/login?next=/admin/", timeout=WAIT)
    page.fill("#username", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_staff_manage_records(serve: Callable[[Any], str], browser: Any, tmp_path: Path) -> None:
    base = serve(make_app(tmp_path))
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        log_in(page, base, "staff@example.com")
        page.wait_for_url(base + "/admin/", timeout=WAIT)
        page.click("text=BrowserBook")
        page.wait_for_selector("text=Dune", timeout=WAIT)

        # Add: first a validation error, then a record with a hostile title.
        page.click("text=Add BrowserBook")
        page.fill("#id_pages", "2.5")
        page.click("button:text('Save')")
        page.wait_for_selector("text=This field is required.", timeout=WAIT)
        assert page.locator("text=Enter a whole number.").count() == 1
        page.fill("#id_title", "<img src=x onerror=alert(1)> Foundation")
        page.fill("#id_pages", "255")
        page.select_option("#id_shelf", "science")
        page.click("button:text('Save')")
        page.wait_for_selector("text=Added BrowserBook", timeout=WAIT)
        page.screenshot(path=str(tmp_path / "admin-edit.png"), full_page=True)

        # Search and filter.
        page.goto(base + "/admin/browser_book/")
        page.fill("#q", "Foundation")
        page.click("button:text('Filter')")
        page.wait_for_selector("text=(1)", timeout=WAIT)
        page.goto(base + "/admin/browser_book/?f_shelf=science")
        assert "(1)" in page.inner_text("h1")
        page.screenshot(path=str(tmp_path / "admin-list.png"), full_page=True)
        assert "<img src=x" in page.inner_text("table")  # shown as text, not an image

        # Edit, then delete.
        page.click("td a:has-text('2')")
        page.fill("#id_pages", "300")
        page.click("button:text('Save')")
        page.wait_for_selector("text=Saved BrowserBook", timeout=WAIT)
        page.goto(base + "/admin/browser_book/2/history")
        assert "255 → 300" in page.inner_text("table")
        page.goto(base + "/admin/browser_book/2/delete")
        page.click("button:text('Yes, delete')")
        page.wait_for_selector("text=Deleted BrowserBook", timeout=WAIT)
        assert "(1)" in page.inner_text("h1")
        assert dialogs == []
        assert (tmp_path / "admin-list.png").stat().st_size > 0
    finally:
        context.close()


def test_non_staff_are_refused(serve: Callable[[Any], str], browser: Any, tmp_path: Path) -> None:
    base = serve(make_app(tmp_path))
    context = browser.new_context()
    page = context.new_page()
    try:
        log_in(page, base, "reader@example.com")
        page.wait_for_url(base + "/admin/", timeout=WAIT)
        assert "403" in page.title() or "Forbidden" in page.content()
    finally:
        context.close()
