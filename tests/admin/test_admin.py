"""brace.admin on SQLite and PostgreSQL: staff-only access, per-model permissions, list
(search, filters, sorting, pagination), add/edit with validation, delete with cascades, bulk
delete, history, escaping, and bounded queries on big lists."""

import enum
import re
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from sqlalchemy import ForeignKey, String, event, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brace import App
from brace.admin import Admin, AdminLogEntry
from brace.auth import Auth, auth_views
from brace.db import Database, Model
from brace.sessions import SessionMiddleware
from brace.testing import TestClient

PASSWORD = "an admin test passphrase"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')
XSS = '<script>alert("x")</script>'


class Section(enum.Enum):
    news = "news"
    sport = "sport"


class Magazine(Model):
    name: Mapped[str] = mapped_column(String(80), unique=True)
    issues: Mapped[list["Story"]] = relationship(
        back_populates="magazine", cascade="all, delete-orphan"
    )


class Story(Model):
    title: Mapped[str] = mapped_column(String(120))
    body: Mapped[str | None] = mapped_column(String(2000))
    published: Mapped[bool] = mapped_column(default=False)
    section: Mapped[Section] = mapped_column(default=Section.news)
    day: Mapped[date | None]
    words: Mapped[int] = mapped_column(default=0)
    magazine_id: Mapped[int | None] = mapped_column(ForeignKey("magazine.id"))
    magazine: Mapped[Magazine | None] = relationship(back_populates="issues")


def make_app(url: str) -> tuple[App, Database]:
    from brace.auth import User

    app = App()
    app.add_middleware(SessionMiddleware, secret_key="an-admin-test-secret-long-enough")
    db = Database(url, app=app)
    Auth(app)
    app.include(auth_views())
    admin = Admin(app)
    admin.register(
        Story,
        list_display=["id", "title", "published", "section", "day", "magazine_id"],
        search_fields=["title", "body"],
        list_filter=["published", "section", "day", "magazine_id"],
        per_page=20,
    )
    admin.register(Magazine)

    @app.on_startup
    async def seed() -> None:
        await db.drop_all()
        await db.create_all()
        async with db.session() as session:
            users = [
                User(
                    email="staff@example.com",
                    is_staff=True,
                    permissions=[
                        "story.view",
                        "story.add",
                        "story.change",
                        "story.delete",
                        "magazine.view",
                        "magazine.delete",
                    ],
                ),
                User(email="viewer@example.com", is_staff=True, permissions=["story.view"]),
                User(email="plain@example.com"),
                User(email="root@example.com", is_staff=True, is_superuser=True),
            ]
            for user in users:
                user.set_password(PASSWORD)
            weekly = Magazine(name="Weekly")
            session.add_all([*users, weekly])
            await session.flush()
            session.add_all(
                Story(
                    title=f"Story {n:02}",
                    published=n % 2 == 0,
                    words=n,
                    section=Section.sport if n % 3 == 0 else Section.news,
                    magazine_id=weekly.id if n < 5 else None,
                )
                for n in range(30)
            )
            await session.commit()

    return app, db


def log_in(client: TestClient, email: str) -> None:
    page = client.get("/auth/login").text
    token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
    r = client.post(
        "/auth/login", data={"username": email, "password": PASSWORD, "csrf_token": token}
    )
    assert r.status_code == 303


def csrf(client: TestClient, path: str = "/admin/") -> str:
    return TOKEN.search(client.get(path).text).group(1)  # type: ignore[union-attr]


@pytest.fixture
def app_db(db_url: str) -> tuple[App, Database]:
    return make_app(db_url)


@pytest.fixture
def staff(app_db: tuple[App, Database]) -> Iterator[TestClient]:
    with TestClient(app_db[0]) as client:
        log_in(client, "staff@example.com")
        yield client


def test_only_active_staff_get_in(app_db: tuple[App, Database]) -> None:
    app, _ = app_db
    with TestClient(app) as client:
        to_login = client.get("/admin/", headers={"accept": "text/html"})
        assert (
            to_login.status_code == 303
            and "/auth/login?next=/admin/" in to_login.headers["location"]
        )
        log_in(client, "plain@example.com")
        assert client.get("/admin/").status_code == 403
        assert client.get("/admin/story/").status_code == 403


def test_dashboard_lists_permitted_models(staff: TestClient) -> None:
    page = staff.get("/admin/").text
    assert "Story" in page and "Magazine" in page
    assert 'href="/admin/admin_log_entry/"' not in page  # no permission for the history list


def test_list_search_filter_sort_paginate(staff: TestClient) -> None:
    page = staff.get("/admin/story/").text
    assert "(30)" in page and "Page 1 of 2" in page
    assert page.index("Story 29") < page.index("Story 28")  # default: newest first
    found = staff.get("/admin/story/", params={"q": "Story 1"}).text
    assert "(10)" in found  # Story 10 to Story 19
    assert "(15)" in staff.get("/admin/story/", params={"f_published": "1"}).text
    assert "(10)" in staff.get("/admin/story/", params={"f_section": "sport"}).text
    assert "(5)" in staff.get("/admin/story/", params={"f_magazine_id": "1"}).text
    ordered = staff.get("/admin/story/", params={"o": "title"}).text
    assert ordered.index("Story 00") < ordered.index("Story 01")
    second = staff.get("/admin/story/", params={"page": "2"}).text
    assert "Page 2 of 2" in second
    for hostile in (
        {"page": "-3"},
        {"page": "x"},
        {"o": "password_hash"},
        {"f_day": "not a date"},
        {"q": "%"},
        {"q": "_"},
        {"q": "' OR 1=1 --"},
        {"q": "x" * 5000},
    ):
        assert staff.get("/admin/story/", params=hostile).status_code == 200
    assert "(0)" in staff.get("/admin/story/", params={"q": "%"}).text


def test_add_with_validation_errors_then_success(staff: TestClient) -> None:
    token = csrf(staff, "/admin/story/add")
    bad = staff.post(
        "/admin/story/add",
        data={
            "title": "",
            "words": "many",
            "day": "31/12/2026",
            "section": "weather",
            "csrf_token": token,
        },
    )
    assert bad.status_code == 422
    for message in (
        "This field is required.",
        "Enter a whole number.",
        "Enter a valid date",
        "Select a valid choice.",
    ):
        assert message in bad.text
    assert 'value="many"' in bad.text  # input kept
    ok = staff.post(
        "/admin/story/add",
        data={
            "title": XSS,
            "body": XSS,
            "words": "12",
            "day": "2026-11-27",
            "section": "sport",
            "published": "on",
            "csrf_token": token,
        },
    )
    assert ok.status_code == 303
    edit = staff.get(ok.headers["location"]).text
    assert XSS not in edit and "&lt;script&gt;" in edit
    listing = staff.get("/admin/story/", params={"q": "script"}).text
    assert XSS not in listing and "&lt;script&gt;" in listing


def test_edit_records_history_and_escapes_it(staff: TestClient) -> None:
    token = csrf(staff, "/admin/story/1/")
    r = staff.post(
        "/admin/story/1/",
        data={
            "title": XSS,
            "words": "7",
            "section": "news",
            "csrf_token": token,
        },
    )
    assert r.status_code == 303
    history = staff.get("/admin/story/1/history").text
    assert "staff@example.com" in history and "change" in history
    assert XSS not in history and "&lt;script&gt;" in history
    assert "Story 00" in history  # the old value


def test_csrf_is_required(staff: TestClient) -> None:
    assert staff.post("/admin/story/1/", data={"title": "x"}).status_code == 403
    assert staff.post("/admin/story/1/delete").status_code == 403


def test_delete_lists_cascades(staff: TestClient, app_db: tuple[App, Database]) -> None:
    confirm = staff.get("/admin/magazine/1/delete").text
    assert "5 Story record(s)" in confirm
    token = csrf(staff, "/admin/magazine/1/delete")
    assert staff.post("/admin/magazine/1/delete", data={"csrf_token": token}).status_code == 303
    assert staff.get("/admin/magazine/1/").status_code == 404
    assert "(25)" in staff.get("/admin/story/").text


def test_bulk_delete_asks_then_deletes(staff: TestClient) -> None:
    token = csrf(staff, "/admin/story/")
    ask = staff.post(
        "/admin/story/bulk-delete", data={"ids": ["3", "4", "nope"], "csrf_token": token}
    )
    assert ask.status_code == 200 and "Delete 2 Story record(s)?" in ask.text
    done = staff.post(
        "/admin/story/bulk-delete", data={"ids": ["3", "4"], "confirm": "yes", "csrf_token": token}
    )
    assert done.status_code == 303
    assert "(28)" in staff.get("/admin/story/").text


def test_per_model_permissions(app_db: tuple[App, Database]) -> None:
    with TestClient(app_db[0]) as client:
        log_in(client, "viewer@example.com")
        assert client.get("/admin/story/").status_code == 200
        page = client.get("/admin/story/1/").text
        assert "readonly" in page and ">Save<" not in page
        token = csrf(client, "/admin/story/")
        assert (
            client.post("/admin/story/1/", data={"title": "x", "csrf_token": token}).status_code
            == 403
        )
        assert client.get("/admin/story/add").status_code == 403
        assert client.get("/admin/magazine/").status_code == 403
        assert client.get("/admin/nothing/").status_code == 404
        assert client.get("/admin/story/99999/").status_code == 404
        assert client.get("/admin/story/abc/").status_code == 404


def test_list_queries_stay_bounded(app_db: tuple[App, Database]) -> None:
    app, db = app_db

    async def many() -> None:
        async with db.session() as session:
            session.add_all(Story(title=f"Bulk {n}", words=n) for n in range(10_000))
            await session.commit()

    with TestClient(app) as client:
        log_in(client, "root@example.com")
        client.run(many())
        statements: list[str] = []

        def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
            statements.append(statement)

        event.listen(db.engine.sync_engine, "before_cursor_execute", count)
        try:
            page = client.get("/admin/story/", params={"page": "300"}).text
        finally:
            event.remove(db.engine.sync_engine, "before_cursor_execute", count)
        assert "(10030)" in page and "Page 300 of 502" in page
        assert len(statements) <= 5, statements  # user + count + page, whatever the size


def test_history_entries_are_browsable_by_superusers(app_db: tuple[App, Database]) -> None:
    with TestClient(app_db[0]) as client:
        log_in(client, "root@example.com")
        token = csrf(client, "/admin/story/2/")
        client.post(
            "/admin/story/2/",
            data={"title": "Renamed", "words": "2", "section": "news", "csrf_token": token},
        )
        log = client.get("/admin/admin_log_entry/").text
        assert "Renamed" in log
        assert client.get("/admin/").text.count("Renamed") >= 1  # recent changes


def test_admin_log_model_is_registered() -> None:
    assert AdminLogEntry.__tablename__ == "admin_log_entry"
    assert select(AdminLogEntry) is not None


def test_foreign_keys_are_menus_until_the_target_is_big(app_db: tuple[App, Database]) -> None:
    app, db = app_db
    with TestClient(app) as client:
        log_in(client, "root@example.com")
        form = client.get("/admin/story/1/").text
        assert '<select id="id_magazine_id"' in form and "Weekly (1)" in form

        async def many_magazines() -> None:
            async with db.session() as session:
                session.add_all(Magazine(name=f"Mag {n}") for n in range(250))
                await session.commit()

        client.run(many_magazines())
        big = client.get("/admin/story/1/").text
        assert '<select id="id_magazine_id"' not in big
        assert 'href="/admin/magazine/"' in big and "find one" in big


def test_projects_can_override_admin_templates(tmp_path: Any) -> None:
    from brace.templating import Templates

    (tmp_path / "admin").mkdir()
    (tmp_path / "admin" / "index.html").write_text(
        '{% extends "admin/base.html" %}{% block content %}<h1>Our own dashboard</h1>{% endblock %}'
    )
    app = App()
    app.add_middleware(SessionMiddleware, secret_key="an-admin-test-secret-long-enough")
    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'o.db'}", app=app)
    Auth(app)
    app.include(auth_views())
    Admin(app, templates=Templates(tmp_path))

    @app.on_startup
    async def seed() -> None:
        from brace.auth import User

        await db.create_all()
        async with db.session() as session:
            root = User(email="root@example.com", is_staff=True, is_superuser=True)
            root.set_password(PASSWORD)
            session.add(root)
            await session.commit()

    with TestClient(app) as client:
        log_in(client, "root@example.com")
        page = client.get("/admin/").text
        assert "Our own dashboard" in page and "admin.css" in page  # base.html is brace's
        assert client.get("/admin/story/").status_code == 404  # not registered here


def _add_users(app: App, db: Database, users: dict[str, list[str]]) -> None:
    """Staff users with exactly these permissions, created after the seed."""
    from brace.auth import User

    @app.on_startup
    async def more_users() -> None:
        async with db.session() as session:
            for email, permissions in users.items():
                user = User(email=email, is_staff=True, permissions=permissions)
                user.set_password(PASSWORD)
                session.add(user)
            await session.commit()


def test_the_dashboard_shows_only_history_of_models_the_user_may_view(
    app_db: tuple[App, Database],
) -> None:
    app, db = app_db
    _add_users(app, db, {"nobody@example.com": [], "mags@example.com": ["magazine.view"]})
    with TestClient(app) as client:  # one start-up: the seed runs once
        log_in(client, "root@example.com")
        token = csrf(client, "/admin/story/add")
        added = client.post("/admin/story/add", data={"title": "Secret plans", "csrf_token": token})
        assert added.status_code == 303
        assert "Secret plans" in client.get("/admin/").text
        for email in ("nobody@example.com", "mags@example.com"):
            client.cookies.clear()
            log_in(client, email)
            assert "Secret plans" not in client.get("/admin/").text, email
        client.cookies.clear()
        log_in(client, "staff@example.com")  # may view stories: sees the change
        assert "Secret plans" in client.get("/admin/").text


def test_foreign_key_choices_only_for_models_the_user_may_view(
    app_db: tuple[App, Database],
) -> None:
    app, db = app_db
    _add_users(app, db, {"writer@example.com": ["story.view", "story.add", "story.change"]})
    with TestClient(app) as client:
        log_in(client, "writer@example.com")  # may not view magazines
        page = client.get("/admin/story/add").text
        assert "Weekly" not in page
        assert 'name="magazine_id"' in page  # a plain key input instead
        edit = client.get("/admin/story/1/").text
        assert "Weekly" not in edit
        client.cookies.clear()
        log_in(client, "staff@example.com")  # may view magazines: gets the menu
        assert "Weekly" in client.get("/admin/story/add").text


def make_user_admin(url: str) -> tuple[App, Database]:
    from brace.auth import User

    app = App()
    app.add_middleware(SessionMiddleware, secret_key="an-admin-test-secret-long-enough")
    db = Database(url, app=app)
    Auth(app)
    app.include(auth_views())
    Admin(app).register(User)

    @app.on_startup
    async def seed() -> None:
        await db.drop_all()
        await db.create_all()
        async with db.session() as session:
            clerk = User(
                email="clerk@example.com",
                is_staff=True,
                permissions=["auth_user.view", "auth_user.change", "auth_user.add"],
            )
            root = User(email="root@example.com", is_staff=True, is_superuser=True)
            for user in (clerk, root):
                user.set_password(PASSWORD)
            session.add_all([clerk, root])
            await session.commit()

    return app, db


def test_only_superusers_change_privileges_in_the_user_admin(db_url: str) -> None:
    from brace.auth import User

    app, db = make_user_admin(db_url)
    with TestClient(app) as client:
        log_in(client, "clerk@example.com")
        page = client.get("/admin/auth_user/1/").text
        assert 'name="is_superuser"' not in page and 'name="permissions"' not in page
        token = csrf(client, "/admin/auth_user/1/")
        data = {
            "email": "clerk@example.com",
            "is_active": "on",
            "is_staff": "on",
            "is_superuser": "on",
            "permissions": '["*"]',
            "date_joined": "",  # empty: kept as it is, not a 500
            "csrf_token": token,
        }
        saved = client.post("/admin/auth_user/1/", data=data)
        assert saved.status_code == 303, saved.text

        async def clerk() -> Any:
            async with db.session() as session:
                return await session.scalar(select(User).where(User.id == 1))

        user = client.run(clerk())
        assert user.is_superuser is False
        assert user.permissions == ["auth_user.view", "auth_user.change", "auth_user.add"]
        assert user.date_joined is not None
    with TestClient(app) as client:
        log_in(client, "root@example.com")
        assert 'name="is_superuser"' in client.get("/admin/auth_user/1/").text
