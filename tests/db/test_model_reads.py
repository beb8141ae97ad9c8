"""Returning a model, or rendering one in a template, never 500s on what SQLAlchemy has not
loaded yet: an updated row's timestamps, a lazy relationship. Timestamps read the same on every
database (timezone-aware UTC, microseconds)."""

from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from sqlalchemy import ForeignKey, select
from sqlalchemy.orm import Mapped, mapped_column, relationship

from brace import App, Request
from brace.db import DB, Database, Model, Timestamps, get_or_404
from brace.templating import Templates
from brace.testing import TestClient


class Writer(Model):
    __tablename__ = "reads_writer"

    name: Mapped[str]
    posts: Mapped[list[Post]] = relationship(back_populates="writer")


class Post(Timestamps, Model):
    __tablename__ = "reads_post"

    title: Mapped[str]
    writer_id: Mapped[int] = mapped_column(ForeignKey("reads_writer.id"))
    writer: Mapped[Writer] = relationship(back_populates="posts")


class WriterOut(msgspec.Struct):
    name: str


class PostOut(msgspec.Struct):
    title: str
    writer: WriterOut


class TitleIn(msgspec.Struct):
    title: str


def make_app(url: str, templates_dir: Path, debug: bool = True) -> App:
    app = App(debug=debug)
    db = Database(url, app=app, repeated_query_limit=2)
    templates = Templates(templates_dir)

    @app.on_startup
    async def tables() -> None:
        await db.drop_all()
        await db.create_all()
        async with db.session() as session:
            for name in ("ada", "grace", "linus"):
                writer = Writer(name=name)
                session.add(writer)
                session.add(Post(title=f"by {name}", writer=writer))
            await session.commit()

    @app.patch("/posts/{id:int}")
    async def update(id: int, data: TitleIn, session: DB) -> Post:
        post = await get_or_404(session, Post, id)
        post.title = data.title
        await session.flush()
        return post

    @app.patch("/undeclared/{id:int}")
    async def update_undeclared(id: int, data: TitleIn, session: DB):  # type: ignore[no-untyped-def]
        post = await get_or_404(session, Post, id)
        post.title = data.title
        await session.flush()
        return post

    @app.get("/posts/{id:int}")
    async def show(id: int, session: DB) -> Post:
        return await get_or_404(session, Post, id)

    @app.get("/posts/{id:int}/with-writer")
    async def with_writer(id: int, session: DB) -> PostOut:
        session.expunge_all()  # nothing cached: the writer must be lazy-loaded
        return await get_or_404(session, Post, id)  # type: ignore[return-value]

    @app.get("/feed")
    async def feed(request: Request, session: DB) -> Any:
        session.expunge_all()
        posts = (await session.scalars(select(Post).order_by(Post.id))).all()
        return templates.render(request, "feed.html", {"posts": posts})

    @app.get("/feed-async")
    async def feed_async(request: Request, session: DB) -> Any:
        session.expunge_all()
        posts = (await session.scalars(select(Post).order_by(Post.id))).all()
        return await templates.render_async(request, "feed.html", {"posts": posts})

    @app.get("/writers-one-by-one")
    async def one_by_one(session: DB) -> list[str]:
        names = []
        for id in (1, 2, 3):
            writer = await session.scalar(select(Writer).where(Writer.id == id))
            names.append(writer.name if writer else "")
        return names

    @app.get("/broken")
    async def broken(request: Request, session: DB) -> Any:
        posts = (await session.scalars(select(Post))).all()
        return templates.render(request, "broken.html", {"posts": posts})

    return app


@pytest.fixture
def client(db_url: str, tmp_path: Path) -> Any:
    (tmp_path / "feed.html").write_text(
        "{% for post in posts %}<p>{{ post.title }} by {{ post.writer.name }}</p>{% endfor %}"
    )
    (tmp_path / "broken.html").write_text("{{ posts[0].nothing_here.name }}")
    with TestClient(make_app(db_url, tmp_path)) as test_client:
        yield test_client


def _aware_with_micros(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    assert value.utcoffset() is not None and value.utcoffset().total_seconds() == 0, text
    return value


def test_update_then_return_the_model(client: TestClient) -> None:
    before = client.get("/posts/1").json()
    response = client.patch("/posts/1", json={"title": "edited"})
    assert response.status_code == 200, response.text
    after = response.json()
    assert after["title"] == "edited"
    assert _aware_with_micros(after["updated_at"]) > _aware_with_micros(before["updated_at"])
    assert after["created_at"] == before["created_at"]
    undeclared = client.patch("/undeclared/2", json={"title": "again"})
    assert undeclared.status_code == 200, undeclared.text
    assert undeclared.json()["title"] == "again"


def test_timestamps_are_aware_utc_with_microseconds(client: TestClient) -> None:
    created = client.get("/posts/3").json()["created_at"]
    assert created.endswith(("Z", "+00:00")), created
    updated = client.patch("/posts/3", json={"title": "x"}).json()["updated_at"]
    assert "." in updated, f"no microseconds in {updated}"
    _aware_with_micros(updated)


def test_a_lazy_relationship_in_a_declared_response(client: TestClient) -> None:
    response = client.get("/posts/2/with-writer")
    assert response.status_code == 200, response.text
    assert response.json() == {"title": "by grace", "writer": {"name": "grace"}}


def test_lazy_relationships_in_templates_are_awaited_queries(client: TestClient) -> None:
    for url in ("/feed", "/feed-async"):
        response = client.get(url)
        assert response.status_code == 200, response.text
        assert response.text == (
            "<p>by ada by ada</p><p>by grace by grace</p><p>by linus by linus</p>"
        )
        assert response.headers["content-length"] == str(len(response.content))


def test_a_template_error_after_lazy_rendering_is_still_the_error_page(client: TestClient) -> None:
    response = client.get("/broken", headers={"accept": "text/html"})
    assert response.status_code == 500
    assert "nothing_here" in response.text  # the debug page names what went wrong


def test_bad_input_to_the_update_is_4xx(client: TestClient) -> None:
    assert client.patch("/posts/1", json={"title": 5}).status_code == 422
    assert client.patch("/posts/999", json={"title": "x"}).status_code == 404
    assert client.patch(
        "/posts/1", content=b"\xff\xfe", headers={"content-type": "application/json"}
    ).status_code in (400, 422)
    hostile = client.patch("/posts/1", json={"title": "<script>x</script>'; DROP TABLE x;--"})
    assert hostile.status_code == 200
    assert client.get("/posts/1").json()["title"] == "<script>x</script>'; DROP TABLE x;--"


def test_n_plus_one_in_a_template_is_named_in_debug(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="brace.db"):
        assert client.get("/feed").status_code == 200
    warnings = [r.getMessage() for r in caplog.records if "N+1" in r.getMessage()]
    assert len(warnings) == 1, caplog.text
    assert "GET /feed" in warnings[0]
    assert "3 times" in warnings[0]
    assert "template feed.html line 1" in warnings[0]
    assert "selectinload(Post.writer)" in warnings[0]


def test_n_plus_one_in_handler_code_names_the_line(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="brace.db"):
        assert client.get("/writers-one-by-one").json() == ["ada", "grace", "linus"]
    (warning,) = [r.getMessage() for r in caplog.records if "N+1" in r.getMessage()]
    assert f"{Path(__file__).name}:" in warning and "in one_by_one" in warning, warning
    assert "one query" in warning


def test_no_query_counting_outside_debug(
    db_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "feed.html").write_text("{% for p in posts %}{{ p.writer.name }}{% endfor %}")
    with TestClient(make_app(db_url, tmp_path, debug=False)) as quiet:
        with caplog.at_level(logging.WARNING, logger="brace.db"):
            assert quiet.get("/feed").text == "adagracelinus"
    assert "N+1" not in caplog.text


def test_an_edit_form_starts_from_a_model() -> None:
    from brace import FormResult

    form = FormResult.from_object(Post(title="<i>draft</i>", writer_id=3))
    assert form.data["title"] == "<i>draft</i>" and form.data["writer_id"] == "3"
    assert form.data["id"] == "" and "writer" not in form.data  # columns, not relationships


def test_utc_datetime_takes_naive_values_as_utc_and_converts_others() -> None:
    from datetime import UTC, timedelta, timezone

    from sqlalchemy.dialects import postgresql, sqlite

    from brace.db import UTCDateTime

    column = UTCDateTime()
    naive = datetime(2026, 12, 7, 12, 0, 0, 123456)
    paris = datetime(2026, 12, 7, 13, 0, 0, 123456, tzinfo=timezone(timedelta(hours=1)))
    lite, pg = sqlite.dialect(), postgresql.dialect()
    assert column.process_bind_param(naive, lite) == naive  # stored as UTC, without a zone
    assert column.process_bind_param(paris, lite) == naive
    assert column.process_bind_param(paris, pg) == naive.replace(tzinfo=UTC)
    assert column.process_result_value(naive, lite) == naive.replace(tzinfo=UTC)
    assert column.process_result_value(None, lite) is None
