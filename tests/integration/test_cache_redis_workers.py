"""A stampede across workers: 100 concurrent requests for one missing entry, spread over two
worker processes sharing Redis, compute it once."""

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest

from support_servers import UvicornProcess

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
    (tmp_path / "reportapp.py").write_text(APP.format(namespace=namespace))
    servers = [
        UvicornProcess(["reportapp:app", "--app-dir", str(tmp_path)], tmp_path / f"w{i}.log")
        for i in range(2)
    ]
    try:
        with httpx.Client() as client:
            for server in servers:
                server.wait_ready(client)

        async def fire() -> list[dict[str, int]]:
            limits = httpx.Limits(max_connections=100)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:
                urls = [servers[i % 2].base + "/report" for i in range(100)]
                answers = await asyncio.gather(*(client.get(url) for url in urls))
                assert all(a.status_code == 200 for a in answers), answers
                return [a.json() for a in answers]

        reports = asyncio.run(fire())
        computations = httpx.get(servers[0].base + "/computations").json()
    finally:
        for server in servers:
            server.stop()
    assert computations == 1
    assert reports == [{"rows": 42, "run": 1}] * 100
