"""What the database apps share: where the database is, the pool size, TechEmpower's rules.

The tables are `bench.world` and `bench.fortune`, created by `bench/db_setup.py` (run.py runs
it before any database endpoint). Every variant uses the same driver (asyncpg), the same pool
size and no overflow, so that at most POOL_SIZE connections are open per worker.
"""

from __future__ import annotations

import os
import random

from apps._fortunes import TEMPLATE, TEMPLATES

__all__ = [
    "ADDED_MESSAGE",
    "ASYNCPG_DSN",
    "POOL_SIZE",
    "SQLALCHEMY_URL",
    "TEMPLATE",
    "TEMPLATES",
    "WORLD_ROWS",
    "parse_queries",
    "random_id",
    "random_ids",
]

_HOST = os.environ.get("BENCH_PG", "postgres@127.0.0.1:5432/test")
SQLALCHEMY_URL = f"postgresql+asyncpg://{_HOST}"
ASYNCPG_DSN = f"postgresql://{_HOST}"
# Connections per worker, the same for every variant (SQLAlchemy: pool_size, max_overflow=0;
# asyncpg: min_size = max_size).
POOL_SIZE = int(os.environ.get("BENCH_POOL_SIZE", "8"))
WORLD_ROWS = 10_000
ADDED_MESSAGE = "Additional fortune added at request time."

_randint = random.randint
_sample = random.sample
_RANGE = range(1, WORLD_ROWS + 1)


def parse_queries(raw: str | None) -> int:
    """TechEmpower's `queries` parameter: an integer clamped to 1..500; anything else is 1."""
    try:
        n = int(raw) if raw is not None else 1
    except ValueError:
        return 1
    return 1 if n < 1 else 500 if n > 500 else n


def random_id() -> int:
    return _randint(1, WORLD_ROWS)


def random_ids(n: int) -> list[int]:
    """n distinct random ids: each of the n queries reads another row (the ORMs' identity map
    would answer a repeated id without a query, the raw variant would not)."""
    return _sample(_RANGE, n)
