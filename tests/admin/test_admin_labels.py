"""Rows shown by their model's `__str__` everywhere in the admin (Django's polls: a question
shows as its text, not "#1"): the list's `__str__` column, foreign-key choices, the delete
confirmation, flash messages and history; escaped."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from brace import App
from brace.admin import Admin
from brace.auth import Auth, auth_views
from brace.db import Database, Model
from brace.sessions import SessionMiddleware
from brace.testing import TestClient

PASSWORD = "an admin test passphrase"
TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


class PollQuestion(Model):
    text: Mapped[str] = mapped_column(String(200))

    def __str__(self) -> str:
        return f"Q: {self.text}"


class PollChoice(Model):
    choice_text: Mapped[str] = mapped_column(String(200))
    question_id: Mapped[int] = mapped_column(ForeignKey("poll_question.id"))


@pytest.fixture
def client(db_url: str) -> Iterator[TestClient]:
    from brace.auth import User

    app = App()
    app.add_middleware(SessionMiddleware, secret_key="an-admin-test-secret-long-enough")
    db = Database(db_url, app=app)
    Auth(app)
    app.include(auth_views())
    admin = Admin(app)
    admin.register(PollQuestion, list_display=["__str__", "id"])
    admin.register(PollChoice)

    @app.on_startup
    async def seed() -> None:
        await db.drop_all()
        await db.create_all()
        async with db.session() as session:
            root = User(email="root@example.com", is_staff=True, is_superuser=True)
            root.set_password(PASSWORD)
            session.add_all([root, PollQuestion(text="What's new? <b>bold</b>")])
            await session.commit()

    with TestClient(app) as test_client:
        page = test_client.get("/auth/login").text
        token = TOKEN.search(page).group(1)  # type: ignore[union-attr]
        form = {"username": "root@example.com", "password": PASSWORD, "csrf_token": token}
        assert test_client.post("/auth/login", data=form).status_code == 303
        yield test_client


def csrf(client: TestClient, path: str) -> str:
    return TOKEN.search(client.get(path).text).group(1)  # type: ignore[union-attr]


def test_rows_are_shown_by_their_str(client: TestClient) -> None:
    listing = client.get("/admin/poll_question/").text
    assert "<th>PollQuestion</th>" in listing
    assert "Q: What&#39;s new? &lt;b&gt;bold&lt;/b&gt;" in listing  # the label, escaped
    assert "<b>bold</b>" not in listing
    choices = client.get("/admin/poll_choice/add").text
    assert "Q: What&#39;s new?" in choices  # the foreign-key menu shows labels, not ids
    confirm = client.get("/admin/poll_question/1/delete").text
    assert "Delete PollQuestion “Q: What&#39;s new? &lt;b&gt;bold&lt;/b&gt;”?" in confirm
    token = csrf(client, "/admin/poll_question/1/delete")
    done = client.post("/admin/poll_question/1/delete", data={"csrf_token": token})
    assert done.status_code == 303
    after = client.get(done.headers["location"]).text
    assert "Deleted PollQuestion Q: What&#39;s new?" in after
    history = client.get("/admin/").text
    assert "Q: What&#39;s new?" in history


def test_sorting_by_the_label_column_is_ignored(client: TestClient) -> None:
    assert client.get("/admin/poll_question/?o=__str__").status_code == 200
    assert client.get("/admin/poll_question/?o=-__str__").status_code == 200


def test_unknown_columns_are_still_refused() -> None:
    app = App()
    Database("sqlite+aiosqlite://", app=app)
    Auth(app, secret_key="x" * 40)
    admin = Admin(app)
    with pytest.raises(ValueError, match="unknown column"):
        admin.register(PollChoice, list_display=["nope"])
