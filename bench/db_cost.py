#!/usr/bin/env python3
"""Where a database request's time goes, in-process: the three database apps called directly,
then brace_db's `GET /db` taken apart step by step.

No server and no wrk: each app is called as ASGI (scope shaped like uvicorn's, no-op send) in
a sequential loop on uvloop, so every call waits for PostgreSQL. Every variant runs n calls in
turn, `repeats` turns over, and the median turn is shown (a busy moment of the shared machine
then hits all of them alike). Two clocks are read:

- wall µs per call: latency, database round trips included;
- CPU µs per call (`time.process_time`, this process only): what the Python side costs, the
  framework's and the ORM's work; PostgreSQL's own CPU is not in it.

Under load the server's CPU per request is what limits req/s when the worker is saturated, so
the CPU column is the one to compare with run.py's `cpu µs/req`.

  taskset -c 1 .venv/bin/python db_cost.py              # apps, then the steps
  taskset -c 1 .venv/bin/python db_cost.py --n 500 --repeats 9 --only steps
  taskset -c 1 .venv/bin/python db_cost.py --profile db  # cProfile of brace_db GET /db
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import pstats
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from micro import lifespan, scope_for, shutdown  # noqa: E402  (after the path is set)

APPS = {
    "brace_db": "apps.brace_db_app",
    "brace_db_noping": "",  # brace_db's handlers on a Database with pool_pre_ping=False
    "brace_asyncpg": "apps.brace_asyncpg_app",
    "fastapi_db": "apps.fastapi_db_app",
}
REQUESTS = {
    "db": ("/db", b""),
    "queries": ("/queries", b"queries=20"),
    "fortunes-db": ("/fortunes-db", b""),
    "updates": ("/updates", b"queries=20"),
}


async def clock(fn: Callable[[], Awaitable[Any]], n: int) -> tuple[float, float]:
    """(wall µs, CPU µs) per call of fn(), over n calls."""
    w0, c0 = time.perf_counter(), time.process_time()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - w0) / n * 1e6, (time.process_time() - c0) / n * 1e6


async def interleaved(
    fns: dict[str, tuple[Callable[[], Awaitable[Any]], int]], repeats: int
) -> dict[str, tuple[float, float]]:
    """Each fn n times, all of them in turn, `repeats` times over (so that a slow moment of
    the shared machine hits every fn alike); median (wall µs, CPU µs) per call of each."""
    for fn, n in fns.values():  # warm-up: statement caches, pool, JIT-less Python caches
        for _ in range(min(n, 50)):
            await fn()
    seen: dict[str, list[tuple[float, float]]] = {k: [] for k in fns}
    for _ in range(repeats):
        for key, (fn, n) in fns.items():
            seen[key].append(await clock(fn, n))
    return {
        k: (statistics.median(w for w, _ in xs), statistics.median(c for _, c in xs))
        for k, xs in seen.items()
    }


def asgi_call(app: Any, path: str, query: bytes) -> Callable[[], Awaitable[None]]:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        nonlocal status
        if msg["type"] == "http.response.start":
            status = msg["status"]

    base = scope_for(path, query)

    async def call() -> None:
        await app(dict(base), receive, send)
        if status != 200:
            raise RuntimeError(f"{path}: status {status}")

    return call


def brace_db_noping() -> Any:
    """brace_db's four handlers on a second App whose Database has pool_pre_ping=False (the
    models cannot be declared twice, so not a second import of the module)."""
    from apps import brace_db_app as m
    from apps._db import POOL_SIZE, SQLALCHEMY_URL

    from brace import App
    from brace.db import Database

    app = App()
    Database(SQLALCHEMY_URL, app=app, pool_size=POOL_SIZE, max_overflow=0, pool_pre_ping=False)
    app.get("/db")(m.single_query)
    app.get("/queries")(m.multiple_queries)
    app.get("/fortunes-db")(m.fortunes)
    app.get("/updates")(m.updates)
    return app


async def per_app(n: int, repeats: int) -> None:
    print(f"## ASGI call, sequential (n={n}, median of {repeats})\n")
    print("| app | " + " | ".join(f"{ep} wall · CPU µs" for ep in REQUESTS) + " |")
    print("|---|" + "---:|" * len(REQUESTS))
    fns = {}
    lives = []
    for name, module in APPS.items():
        app = importlib.import_module(module).app if module else brace_db_noping()
        lives.append(await lifespan(app))
        for ep, (path, query) in REQUESTS.items():
            k = n if ep in ("db", "fortunes-db") else max(n // 10, 10)
            fns[name, ep] = (asgi_call(app, path, query), k)
    got = await interleaved(fns, repeats)
    for life in lives:
        await shutdown(*life)
    for name in APPS:
        cells = [f"{got[name, ep][0]:,.0f} · {got[name, ep][1]:,.0f}" for ep in REQUESTS]
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)
    print()


async def steps(n: int, repeats: int) -> None:
    """brace_db's GET /db, one layer at a time, each on top of the previous."""
    import asyncpg
    from apps import brace_db_app as m
    from apps._db import ASYNCPG_DSN, POOL_SIZE, SQLALCHEMY_URL, random_id
    from sqlalchemy import select, text
    from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

    from brace.db import request_session

    World = m.World
    fns: dict[str, tuple[Callable[[], Awaitable[Any]], int]] = {}

    async def run(label: str, fn: Callable[[], Awaitable[Any]]) -> None:
        fns[label] = (fn, n)

    print(f"## brace_db GET /db, step by step (n={n}, median of {repeats})\n")
    conn = await asyncpg.connect(ASYNCPG_DSN)
    sql = "SELECT id, randomnumber FROM bench.world WHERE id = $1"
    await run("asyncpg: conn.fetchrow (prepared, cached)", lambda: conn.fetchrow(sql, random_id()))

    async def ping() -> None:
        # What SQLAlchemy 2.1's asyncpg dialect sends for pool_pre_ping outside a transaction
        # (AsyncAdapt_asyncpg_connection._async_ping): BEGIN; SELECT ';'; ROLLBACK.
        tr = conn.transaction()
        await tr.start()
        try:
            await conn.fetchrow(";")
        finally:
            await tr.rollback()

    await run("asyncpg: BEGIN; ';'; ROLLBACK (SQLAlchemy's pre-ping on asyncpg)", ping)

    async def begin_select_commit() -> None:
        async with conn.transaction():
            await conn.fetchrow(sql, random_id())

    await run("asyncpg: BEGIN; SELECT; COMMIT (what a session sends)", begin_select_commit)

    pool = await asyncpg.create_pool(ASYNCPG_DSN, min_size=POOL_SIZE, max_size=POOL_SIZE)

    async def pool_fetch() -> None:
        async with pool.acquire() as c:
            await c.fetchrow(sql, random_id())

    await run("asyncpg pool: acquire + fetchrow + release (brace_asyncpg)", pool_fetch)

    engines = []
    for pre_ping in (False, True):
        engine = create_async_engine(
            SQLALCHEMY_URL, pool_size=POOL_SIZE, max_overflow=0, pool_pre_ping=pre_ping
        )
        engines.append(engine)
        maker = async_sessionmaker(engine, expire_on_commit=False)
        tag = f"pre_ping={pre_ping}"

        async def core_select(engine: Any = engine) -> None:
            async with engine.connect() as c:
                await c.execute(
                    text("SELECT id, randomnumber FROM bench.world WHERE id = :id"),
                    {"id": random_id()},
                )

        async def core_select_orm(engine: Any = engine) -> None:
            async with engine.connect() as c:
                await c.execute(select(World.id, World.randomNumber).where(World.id == random_id()))

        async def orm_get_close(maker: Any = maker) -> None:
            async with maker() as s:
                await s.get(World, random_id())

        async def orm_get_commit(maker: Any = maker) -> None:
            async with maker() as s:
                await s.get(World, random_id())
                await s.commit()

        await run(f"SQLAlchemy Core: connect + execute(text) + close [{tag}]", core_select)
        await run(f"SQLAlchemy Core: connect + execute(select(cols)) [{tag}]", core_select_orm)
        await run(f"SQLAlchemy ORM: session + get + close (FastAPI dep) [{tag}]", orm_get_close)
        await run(f"SQLAlchemy ORM: session + get + commit + close [{tag}]", orm_get_commit)

    # Without BEGIN / COMMIT round trips: the same session on an AUTOCOMMIT engine.
    auto = create_async_engine(
        SQLALCHEMY_URL,
        pool_size=POOL_SIZE,
        max_overflow=0,
        pool_pre_ping=False,
        isolation_level="AUTOCOMMIT",
    )
    engines.append(auto)
    auto_maker = async_sessionmaker(auto, expire_on_commit=False)

    async def orm_get_autocommit() -> None:
        async with auto_maker() as s:
            await s.get(World, random_id())
            await s.commit()

    await run(
        "SQLAlchemy ORM: session + get + commit + close [pre_ping=False, AUTOCOMMIT]",
        orm_get_autocommit,
    )

    # brace.db itself: the Database's engine (brace's defaults: pre_ping on), its DB dependency.
    db = m.db

    # request_session only reads request.app.extensions (Database.of).
    request = SimpleNamespace(app=SimpleNamespace(extensions={"brace.db": db}))

    async def dependency() -> None:
        gen = request_session(request)  # type: ignore[arg-type]
        session = await gen.__anext__()
        await session.get(World, random_id())
        try:
            await gen.__anext__()
        except StopAsyncIteration:
            pass

    await run("brace.db: request_session() + get + its commit (the DB parameter)", dependency)

    schema = World.__brace_schema__()
    async with db.sessionmaker() as s:
        row = await s.get(World, 1)
    import msgspec

    from brace.responses import json_encoder

    async def convert() -> None:
        json_encoder.encode(msgspec.convert(row, schema, from_attributes=True))

    await run("brace: msgspec.convert(model -> Struct, from_attributes) + encode", convert)

    app = m.app
    life = await lifespan(app)
    await run("brace_db: the whole ASGI call GET /db", asgi_call(app, "/db", b""))
    from apps import fastapi_db_app as f

    flife = await lifespan(f.app)
    await run("fastapi_db: the whole ASGI call GET /db", asgi_call(f.app, "/db", b""))
    got = await interleaved(fns, repeats)
    await shutdown(*life)
    await shutdown(*flife)
    await conn.close()
    await pool.close()
    for engine in engines:
        await engine.dispose()
    print("| step | wall µs | CPU µs |")
    print("|---|---:|---:|")
    for label, (wall, cpu) in got.items():
        print(f"| {label} | {wall:,.0f} | {cpu:,.0f} |")
    print()


async def profile(ep: str, n: int) -> None:
    from apps import brace_db_app as m

    path, query = REQUESTS[ep]
    life = await lifespan(m.app)
    call = asgi_call(m.app, path, query)
    for _ in range(100):
        await call()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        await call()
    prof.disable()
    await shutdown(*life)
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("tottime").print_stats(30)
    stats.sort_stats("cumulative").print_stats(45)
    print(f"## cProfile of brace_db {path}?{query.decode()} x {n}\n")
    print(out.getvalue())


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--n", type=int, default=300, help="calls per turn (queries/updates: /10)")
    ap.add_argument("--repeats", type=int, default=7, help="turns; medians are shown")
    ap.add_argument("--only", choices=["apps", "steps"], default=None)
    ap.add_argument("--profile", choices=list(REQUESTS), default=None)
    args = ap.parse_args()
    import uvloop

    async def go() -> None:
        if args.profile:
            await profile(args.profile, args.n)
            return
        if args.only in (None, "apps"):
            await per_app(args.n, args.repeats)
        if args.only in (None, "steps"):
            await steps(args.n, args.repeats)

    uvloop.run(go())


if __name__ == "__main__":
    main()
