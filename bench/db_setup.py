#!/usr/bin/env python3
"""Create (idempotently) the TechEmpower tables the database benchmarks read and write.

In PostgreSQL (`BENCH_PG_DSN`, default `postgresql://postgres@127.0.0.1:5432/test`), in a
schema of their own, `bench`, so that they never meet brace's test suite (which creates and
drops its own tables in the `test` database, in the public schema):

- `bench.world(id int primary key, randomnumber int not null)`: 10,000 rows, ids 1..10000,
  random numbers 1..10000 (the updates test rewrites them; any value in range is fine);
- `bench.fortune(id int primary key, message varchar(2048) not null)`: TechEmpower's 12
  fortunes, among them a `<script>` tag and a Japanese one.

Run it as often as you like (`run.py` does before any database endpoint): it only rewrites a
table whose content is not what it should be.

    .venv/bin/python db_setup.py          # from bench/
"""

from __future__ import annotations

import asyncio
import os
import random
import sys

import asyncpg

DSN = os.environ.get("BENCH_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")
SCHEMA = "bench"
WORLD_ROWS = 10_000

# TechEmpower's fortune table, verbatim (ids and messages).
FORTUNES: list[tuple[int, str]] = [
    (1, "fortune: No such file or directory"),
    (2, "A computer scientist is someone who fixes things that aren't broken."),
    (3, "After enough decimal places, nobody gives a damn."),
    (4, "A bad random number generator: 1, 1, 1, 1, 1, 4.33e+67, 1, 1, 1"),
    (5, "A computer program does what you tell it to do, not what you want it to do."),
    (6, "Emacs is a nice operating system, but I prefer UNIX. — Tom Christaensen"),
    (7, "Any program that runs right is obsolete."),
    (8, "A list is only as strong as its weakest link. — Donald Knuth"),
    (9, "Feature: A bug with seniority."),
    (10, "Computers make very fast, very accurate mistakes."),
    (11, '<script>alert("This should not be displayed in a browser alert box.");</script>'),
    (12, "フレームワークのベンチマーク"),
]


async def setup(dsn: str = DSN) -> str:
    """Create what is missing, repair what differs; returns a one-line summary."""
    conn = await asyncpg.connect(dsn)
    done: list[str] = []
    try:
        async with conn.transaction():
            # Two setups at once (two run.py) must not both create: serialize on a lock.
            await conn.execute("SELECT pg_advisory_xact_lock(74657374)")
            await conn.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.world "
                "(id integer PRIMARY KEY, randomnumber integer NOT NULL)"
            )
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.fortune "
                "(id integer PRIMARY KEY, message varchar(2048) NOT NULL)"
            )
            count, lo, hi, bad = await conn.fetchrow(
                f"SELECT count(*), min(id), max(id), "
                f"count(*) FILTER (WHERE randomnumber NOT BETWEEN 1 AND {WORLD_ROWS}) "
                f"FROM {SCHEMA}.world"
            )
            if (count, lo, hi, bad) != (WORLD_ROWS, 1, WORLD_ROWS, 0):
                await conn.execute(f"TRUNCATE {SCHEMA}.world")
                await conn.copy_records_to_table(
                    "world",
                    schema_name=SCHEMA,
                    columns=["id", "randomnumber"],
                    records=[(i, random.randint(1, WORLD_ROWS)) for i in range(1, WORLD_ROWS + 1)],
                )
                done.append(f"world filled ({WORLD_ROWS:,} rows)")
            else:
                done.append("world ok")
            rows = await conn.fetch(f"SELECT id, message FROM {SCHEMA}.fortune ORDER BY id")
            if [tuple(r) for r in rows] != FORTUNES:
                await conn.execute(f"TRUNCATE {SCHEMA}.fortune")
                await conn.executemany(
                    f"INSERT INTO {SCHEMA}.fortune (id, message) VALUES ($1, $2)", FORTUNES
                )
                done.append(f"fortune filled ({len(FORTUNES)} rows)")
            else:
                done.append("fortune ok")
        # Fresh statistics, so the planner uses the primary key from the first query on.
        await conn.execute(f"ANALYZE {SCHEMA}.world")
        await conn.execute(f"ANALYZE {SCHEMA}.fortune")
        # What the updates test depends on: recorded with the results.
        settings = [
            f"{name} {await conn.fetchval(f'SHOW {name}')}"
            for name in ("server_version", "synchronous_commit", "fsync", "max_connections")
        ]
    finally:
        await conn.close()
    where = DSN.rsplit("@", 1)[-1]
    return f"{where} schema {SCHEMA}: " + ", ".join(done) + "; " + ", ".join(settings)


def main() -> None:
    try:
        print(asyncio.run(setup()))
    except (OSError, asyncpg.PostgresError) as exc:
        sys.exit(f"database setup failed ({DSN}): {type(exc).__name__}: {exc}")


if __name__ == "__main__":
    main()
