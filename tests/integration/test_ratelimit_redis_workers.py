"""One limit, two worker processes, one Redis: 200 concurrent requests spread over both
workers at a 50/minute limit, and exactly 50 pass."""

import asyncio
import secrets
from pathlib import Path

import httpx
import pytest

from support_servers import UvicornProcess

pytestmark = [pytest.mark.redis, pytest.mark.server, pytest.mark.usefixtures("need_redis")]

APP = """
from brace import App
from brace.ratelimit import RateLimiter

app = App()
RateLimiter(app, storage="redis://127.0.0.1:6379")


@app.get("/")
async def ready() -> str:
    return "ok"


@app.get("/limited", opts={{"rate_limit": "50/minute", "rate_limit_scope": "{scope}"}})
async def limited() -> str:
    return "ok"
"""


def test_two_workers_share_one_budget(tmp_path: Path) -> None:
    scope = f"workers-{secrets.token_hex(4)}"  # this run's own counter
    (tmp_path / "limitedapp.py").write_text(APP.format(scope=scope))
    servers = [
        UvicornProcess(["limitedapp:app", "--app-dir", str(tmp_path)], tmp_path / f"w{i}.log")
        for i in range(2)
    ]
    try:
        with httpx.Client() as client:
            for server in servers:
                server.wait_ready(client)

        async def fire() -> list[int]:
            limits = httpx.Limits(max_connections=100)
            async with httpx.AsyncClient(limits=limits, timeout=30) as client:
                urls = [servers[i % 2].base + "/limited" for i in range(200)]
                answers = await asyncio.gather(*(client.get(url) for url in urls))
                return [answer.status_code for answer in answers]

        statuses = asyncio.run(fire())
    finally:
        for server in servers:
            server.stop()
    assert statuses.count(200) == 50, statuses
    assert statuses.count(429) == 150
