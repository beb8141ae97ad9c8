"""brace with its ORM layer (brace.db): TechEmpower's database tests, the documented way.

`Database(url, app=app)` with brace's defaults except the pool (POOL_SIZE connections, no
overflow, like every variant); a `session: DB` parameter per handler (committed when the
handler returns); `Model` classes mapping `bench.world` / `bench.fortune`; handlers return the
models and brace serializes their columns.

The Database pings every connection it takes from the pool (`pre_ping=True`), as brace's
default did when RESULTS.md's database run was recorded; since 5dca633 brace does not ping by
default, which is `brace_db_noping` (BENCH_DB_PRE_PING=0). FastAPI's plain
`create_async_engine` does not ping either.
"""

import os
from operator import attrgetter
from typing import ClassVar

from sqlalchemy import String, select
from sqlalchemy.orm import Mapped, mapped_column

from apps._db import (
    ADDED_MESSAGE,
    POOL_SIZE,
    SQLALCHEMY_URL,
    TEMPLATE,
    TEMPLATES,
    parse_queries,
    random_id,
    random_ids,
)
from brace import App, HTMLResponse, Request
from brace.db import DB, Database, Model
from brace.templating import Templates


class World(Model):
    __tablename__ = "world"
    __table_args__: ClassVar[dict[str, str]] = {"schema": "bench"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    # TechEmpower's JSON key is randomNumber; the column is randomnumber.
    randomNumber: Mapped[int] = mapped_column("randomnumber")


class Fortune(Model):
    __tablename__ = "fortune"
    __table_args__: ClassVar[dict[str, str]] = {"schema": "bench"}

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    message: Mapped[str] = mapped_column(String(2048))


app = App()
_pre_ping = os.environ.get("BENCH_DB_PRE_PING") != "0"
db = Database(SQLALCHEMY_URL, app=app, pool_size=POOL_SIZE, max_overflow=0, pre_ping=_pre_ping)
templates = Templates(TEMPLATES)
_by_message = attrgetter("message")


@app.get("/db")
async def single_query(session: DB) -> World:
    return await session.get(World, random_id())  # type: ignore[return-value]


@app.get("/queries")
async def multiple_queries(session: DB, queries: str = "1") -> list[World]:
    return [await session.get(World, i) for i in random_ids(parse_queries(queries))]  # type: ignore[misc]


@app.get("/fortunes-db")
async def fortunes(request: Request, session: DB) -> HTMLResponse:
    rows = list(await session.scalars(select(Fortune)))
    rows.append(Fortune(id=0, message=ADDED_MESSAGE))
    rows.sort(key=_by_message)
    return templates.render(request, TEMPLATE, {"fortunes": rows})


@app.get("/updates")
async def updates(session: DB, queries: str = "1") -> list[World]:
    worlds = [await session.get(World, i) for i in random_ids(parse_queries(queries))]
    for world in worlds:
        world.randomNumber = random_id()  # type: ignore[union-attr]
    return worlds  # type: ignore[return-value]  # the UPDATEs are sent by the commit
