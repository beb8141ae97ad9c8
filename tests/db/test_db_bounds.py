"""Numbers past what a database holds are the client's mistake: a 4xx, never a 500."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Mapped

from brace import App
from brace.db import DB, Database, Model, Page, Pagination
from brace.testing import TestClient


class Counter(Model):
    __tablename__ = "bounds_counter"

    value: Mapped[int]


def make_app(url: str) -> App:
    app = App()
    db = Database(url, app=app)

    @app.on_startup
    async def tables() -> None:
        await db.drop_all()
        await db.create_all()

    @app.get("/counters")
    async def counters(session: DB, pages: Pagination) -> Page[Any]:
        return await pages.fetch(session, select(Counter).order_by(Counter.id))

    @app.get("/counters/{key}")
    async def counter(key: str, session: DB) -> dict[str, Any]:
        found = await session.scalar(select(Counter).where(Counter.id == int(key)))
        return {"found": found is not None}

    return app


def test_huge_offsets_and_ids_are_4xx_on_every_database(db_url: str) -> None:
    with TestClient(make_app(db_url)) as client:
        assert client.get("/counters?offset=0").status_code == 200
        huge = client.get("/counters?offset=9223372036854775808")
        assert huge.status_code == 422
        assert huge.json()["errors"][0]["loc"] == "query.offset"
        assert client.get("/counters?limit=1000").status_code == 422
        past_64_bits = client.get("/counters/9223372036854775808")
        assert past_64_bits.status_code == 400, past_64_bits.text
        assert client.get("/counters/5").json() == {"found": False}


def test_two_hundred_concurrent_writers_on_sqlite_get_no_500(tmp_path: Any) -> None:
    import asyncio

    import httpx

    from brace.testing import AsyncTestClient

    app = make_app(f"sqlite+aiosqlite:///{tmp_path / 'busy.db'}")

    @app.post("/counters", status_code=201)
    async def add(session: DB) -> dict[str, int]:
        row = Counter(value=1)
        session.add(row)
        await session.flush()
        total = await session.scalar(select(Counter.id).order_by(Counter.id.desc()).limit(1))
        return {"id": int(total or 0)}

    async def main() -> list[int]:
        async with AsyncTestClient(app) as client:
            mode = await client.get("/counters")
            assert mode.status_code == 200

            async def one() -> int:
                response: httpx.Response = await client.post("/counters")
                return response.status_code

            return list(await asyncio.gather(*(one() for _ in range(200))))

    statuses = asyncio.run(main())
    assert 500 not in statuses
    assert statuses.count(201) >= 190, statuses  # WAL and a busy timeout: writers wait
    assert set(statuses) <= {201, 503}


def test_file_databases_use_write_ahead_logging(tmp_path: Any) -> None:
    import asyncio

    from sqlalchemy import text

    db = Database(f"sqlite+aiosqlite:///{tmp_path / 'wal.db'}")

    async def mode() -> str:
        async with db.engine.connect() as connection:
            return str(await connection.scalar(text("PRAGMA journal_mode")))

    assert asyncio.run(mode()).lower() == "wal"
    asyncio.run(db.engine.dispose())
