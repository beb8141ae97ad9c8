"""brace.db.testing: every test in its own transaction, rolled back at the end, on SQLite and
PostgreSQL; handlers commit and roll back as usual inside it."""

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import String, func, select
from sqlalchemy.orm import Mapped, mapped_column

from brace import App, HTTPError
from brace.db import DB, Database, Model
from brace.db.testing import rolled_back, transactional
from brace.testing import AsyncTestClient, TestClient


class Memo(Model):
    text: Mapped[str] = mapped_column(String(40))


def make_app(url: str) -> tuple[App, Database]:
    app = App()
    db = Database(url, app=app)

    @app.on_startup
    async def tables() -> None:
        await db.drop_all()
        await db.create_all()

    @app.post("/memos/{text}", status_code=201)
    async def add(text: str, session: DB) -> int:
        session.add(Memo(text=text))
        await session.flush()
        return int(await session.scalar(select(func.count()).select_from(Memo)) or 0)

    @app.post("/memos/{text}/fail")
    async def add_then_fail(text: str, session: DB) -> None:
        session.add(Memo(text=text))
        await session.flush()
        raise HTTPError(409, "no")

    @app.get("/memos")
    async def memos(session: DB) -> list[str]:
        return list(await session.scalars(select(Memo.text).order_by(Memo.id)))

    return app, db


async def count(db: Database) -> int:
    async with db.session() as session:
        return int(await session.scalar(select(func.count()).select_from(Memo)) or 0)


@pytest.fixture
def app_and_db(db_url: str) -> Iterator[tuple[App, Database]]:
    yield make_app(db_url)


def test_changes_vanish_after_the_test(app_and_db: tuple[App, Database]) -> None:
    app, db = app_and_db
    with TestClient(app) as client:
        with transactional(client, db):
            assert client.post("/memos/one").json() == 1
            assert client.post("/memos/two").json() == 2
            assert client.post("/memos/three/fail").status_code == 409  # its savepoint undone
            assert client.get("/memos").json() == ["one", "two"]

            async def seed() -> None:
                async with db.session() as session:
                    session.add(Memo(text="seeded"))
                    await session.commit()

            client.run(seed())
            assert client.get("/memos").json() == ["one", "two", "seeded"]
        assert client.run(count(db)) == 0
        assert client.get("/memos").json() == []
        # Outside the block the database behaves normally again (commits stay, rollbacks undo).
        assert client.post("/memos/kept").status_code == 201
        assert client.post("/memos/undone/fail").status_code == 409
        assert client.get("/memos").json() == ["kept"]


def test_two_tests_in_a_row_start_clean(app_and_db: tuple[App, Database]) -> None:
    app, db = app_and_db
    with TestClient(app) as client:
        for _ in range(2):
            with transactional(client, db):
                assert client.get("/memos").json() == []
                client.post("/memos/x")


def test_async_tests(app_and_db: tuple[App, Database]) -> None:
    app, db = app_and_db

    async def scenario() -> None:
        async with AsyncTestClient(app) as client:
            async with rolled_back(db):
                assert (await client.post("/memos/async")).json() == 1
            assert await count(db) == 0

    asyncio.run(scenario())
