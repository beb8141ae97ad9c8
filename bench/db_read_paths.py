#!/usr/bin/env python3
"""What one primary-key read costs inside a SQLAlchemy session, by path (CPU µs per read).

In-process against bench.world (db_setup.py), no server: sessions of 20 reads then a commit,
as TechEmpower's `queries` test does, 7 interleaved turns of 400 reads per path, median.

- session.get(World, id)                       what brace_db and fastapi_db do
- session.execute(prebuilt ORM select)         one statement object reused
- Core rows through the session's connection   no ORM loading
- Core rows + the instance built by hand       make_transient_to_detached + session.add
- the session's own asyncpg connection         fetchrow, no SQLAlchemy statement at all

  taskset -c 1 .venv/bin/python db_read_paths.py
"""

import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apps import brace_db_app  # noqa: E402
from apps._db import SQLALCHEMY_URL, random_id  # noqa: E402
from sqlalchemy import bindparam, inspect, select  # noqa: E402
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine  # noqa: E402
from sqlalchemy.orm import make_transient_to_detached  # noqa: E402

World = brace_db_app.World
MAPPER = inspect(World)
COLUMNS = [(prop.key, prop.columns[0]) for prop in MAPPER.column_attrs]
CORE = select(*[column for _, column in COLUMNS]).where(MAPPER.primary_key[0] == bindparam("pk"))
ORM = select(World).where(World.id == bindparam("pk"))
RAW = "SELECT id, randomnumber FROM bench.world WHERE id = $1"


async def by_get(session: Any) -> Any:
    return await session.get(World, random_id())


async def by_orm_select(session: Any) -> Any:
    return (await session.execute(ORM, {"pk": random_id()})).scalar_one_or_none()


async def by_core(session: Any) -> Any:
    connection = await session.connection()
    return (await connection.execute(CORE, {"pk": random_id()})).first()


async def by_core_and_instance(session: Any) -> Any:
    row = await by_core(session)
    if row is None:
        return None
    instance = MAPPER.class_manager.new_instance()
    for (key, _), value in zip(COLUMNS, row, strict=True):
        setattr(instance, key, value)
    make_transient_to_detached(instance)
    session.add(instance)
    return instance


async def by_driver(session: Any) -> Any:
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return await raw.driver_connection.fetchrow(RAW, random_id())


PATHS: dict[str, Callable[[Any], Awaitable[Any]]] = {
    "session.get": by_get,
    "prebuilt ORM select": by_orm_select,
    "Core rows": by_core,
    "Core + instance by hand": by_core_and_instance,
    "session's asyncpg fetchrow": by_driver,
}


async def main() -> None:
    engine = create_async_engine(SQLALCHEMY_URL, pool_size=4, max_overflow=0)
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    seen: dict[str, list[float]] = {name: [] for name in PATHS}
    for _ in range(7):
        for name, read in PATHS.items():
            started = time.process_time()
            for _ in range(20):
                async with sessions() as session:
                    for _ in range(20):
                        await read(session)
                    await session.commit()
            seen[name].append((time.process_time() - started) / 400 * 1e6)
    await engine.dispose()
    print("| how | CPU µs / read |\n|---|---:|")
    for name, values in seen.items():
        print(f"| {name} | {statistics.median(values):.0f} |")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
