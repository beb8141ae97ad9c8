"""A stampede across workers: 100 concurrent requests for one missing entry, spread over two
worker processes sharing Redis, compute it once."""

import secrets
from pathlib import Path

import httpx
import pytest

from support_servers import get_all_at_once, workers

pytestmark = [pytest.mark.redis, pytest.mark.server, pytest.mark.usefixtures("need_redis")]

APP = """
import asyncio

from brace import App
from brace.cache import Cache

app = App()
cache = Cache(app, "redis://127.0.0.1:6379", namespace="{namespace}")


@app.get("/")
async def ready() -> str:
    return "ok"


async def build_report() -> dict[str, int]:
    runs = await cache.incr("computations")  # shared by both workers
    await asyncio.sleep(0.3)
    return {{"rows": 42, "run": runs}}


@app.get("/report")
async def report() -> dict[str, int]:
    return await cache.get_or_compute("report", build_report, ttl=60)


@app.get("/computations")
async def computations() -> int:
    return await cache.incr("computations", 0)
"""


def test_one_computation_for_a_stampede_over_two_workers(tmp_path: Path) -> None:
    namespace = f"stampede-{secrets.token_hex(4)}"
    with workers(tmp_path, "reportapp", APP.format(namespace=namespace)) as servers:
        answers = get_all_at_once([servers[i % 2].base + "/report" for i in range(100)])
        assert all(a.status_code == 200 for a in answers), answers
        computations = httpx.get(servers[0].base + "/computations").json()
    assert computations == 1
    assert [a.json() for a in answers] == [{"rows": 42, "run": 1}] * 100
