"""One limit, two worker processes, one Redis: 200 concurrent requests spread over both
workers at a 50/minute limit, and exactly 50 pass."""

import secrets
from pathlib import Path

import pytest

from support_servers import get_all_at_once, workers

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
    with workers(tmp_path, "limitedapp", APP.format(scope=scope)) as servers:
        urls = [servers[i % 2].base + "/limited" for i in range(200)]
        statuses = [answer.status_code for answer in get_all_at_once(urls)]
    assert statuses.count(200) == 50, statuses
    assert statuses.count(429) == 150
