"""brace with raw asyncpg: the same TechEmpower database tests, queries written by hand.

An asyncpg pool (POOL_SIZE connections, as every variant) is opened by a lifespan and kept on
`app.state`; handlers take a connection, run prepared statements (asyncpg caches them per
connection) and return plain dicts.
"""

from contextlib import asynccontextmanager
from operator import itemgetter

import asyncpg

from apps._db import (
    ADDED_MESSAGE,
    ASYNCPG_DSN,
    POOL_SIZE,
    TEMPLATE,
    TEMPLATES,
    parse_queries,
    random_id,
    random_ids,
)
from brace import App, HTMLResponse, Request
from brace.templating import Templates

SELECT_WORLD = "SELECT id, randomnumber FROM bench.world WHERE id = $1"
SELECT_FORTUNES = "SELECT id, message FROM bench.fortune"
UPDATE_WORLD = "UPDATE bench.world SET randomnumber = $2 WHERE id = $1"


@asynccontextmanager
async def lifespan(app: App):
    pool = await asyncpg.create_pool(ASYNCPG_DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)
    yield {"pool": pool}
    await pool.close()


app = App(lifespan=lifespan)
templates = Templates(TEMPLATES)
_by_message = itemgetter("message")


@app.get("/db")
async def single_query() -> dict[str, int]:
    async with app.state.pool.acquire() as conn:
        id_, number = await conn.fetchrow(SELECT_WORLD, random_id())
    return {"id": id_, "randomNumber": number}


@app.get("/queries")
async def multiple_queries(queries: str = "1") -> list[dict[str, int]]:
    ids = random_ids(parse_queries(queries))
    async with app.state.pool.acquire() as conn:
        fetch = conn.fetchrow
        rows = [await fetch(SELECT_WORLD, i) for i in ids]
    return [{"id": id_, "randomNumber": number} for id_, number in rows]


@app.get("/fortunes-db")
async def fortunes(request: Request) -> HTMLResponse:
    async with app.state.pool.acquire() as conn:
        rows: list = await conn.fetch(SELECT_FORTUNES)
    rows.append({"id": 0, "message": ADDED_MESSAGE})
    rows.sort(key=_by_message)
    return templates.render(request, TEMPLATE, {"fortunes": rows})


@app.get("/updates")
async def updates(queries: str = "1") -> list[dict[str, int]]:
    ids = random_ids(parse_queries(queries))
    async with app.state.pool.acquire() as conn:
        fetch = conn.fetchrow
        worlds = []
        for i in ids:
            id_, _ = await fetch(SELECT_WORLD, i)
            worlds.append({"id": id_, "randomNumber": random_id()})
        # One batch, in id order (concurrent batches then lock rows in the same order).
        await conn.executemany(UPDATE_WORLD, sorted((w["id"], w["randomNumber"]) for w in worlds))
    return worlds
