"""Login throttling shared through Redis by two uvicorn worker processes (required in CI).

The 11th wrong try in a minute is refused, even when the ten failures were spread over two
processes and the 11th brings the right password; another account from another address is
not affected.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
import os
import secrets
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from brace._clients import client_group
from support_servers import UvicornProcess

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("need_redis")]

HERE = Path(__file__).parent
REDIS_URL = "redis://127.0.0.1:6379/15"
MODULE = "auth_served_app"


def served_module() -> ModuleType:
    """auth_served_app, imported from its file (tests/integration is not a package)."""
    if MODULE not in sys.modules:
        spec = importlib.util.spec_from_file_location(MODULE, HERE / f"{MODULE}.py")
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[MODULE] = module
        spec.loader.exec_module(module)
    return sys.modules[MODULE]


def throttle_key(kind: str, value: str) -> str:
    """The Redis key brace counts failures under (brace.auth._throttle)."""
    digest = hashlib.sha256(value.encode()).hexdigest()[:32]
    return f"brace:login:{kind}:{digest}"


def auth_worker(env: dict[str, str], log: Path) -> UvicornProcess:
    """`uvicorn` serving auth_served_app in its own process."""
    args = ["--factory", f"{MODULE}:create_app", "--app-dir", str(HERE)]
    # Behind a proxy on loopback: X-Forwarded-For names the client address.
    args += ["--proxy-headers", "--forwarded-allow-ips", "127.0.0.1"]
    return UvicornProcess(args, log, env)


@pytest.fixture
def redis_client() -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def test_the_eleventh_wrong_try_is_refused_across_two_worker_processes(
    tmp_path: Path, redis_client: Any
) -> None:
    import httpx

    run = secrets.token_hex(6)  # this run's own accounts and addresses: no shared counters
    email = f"throttled-{run}@example.com"
    other_email = f"other-{run}@example.com"
    address = f"2001:db8:{run[:4]}:{run[4:8]}::1"  # documentation range
    other_address = f"2001:db8:{run[8:12]}:{run[4:8]}::2"  # another /64: another client
    keys = [
        throttle_key("account", email),
        throttle_key("account", other_email),
        throttle_key("client", client_group(address)),
        throttle_key("client", client_group(other_address)),
    ]
    app_module = served_module()
    db_file = tmp_path / "users.db"
    asyncio.run(app_module.seed(db_file, [email, other_email]))  # once, before the workers
    env = {"BRACE_AUTH_TEST_DB": str(db_file), "BRACE_AUTH_TEST_REDIS": REDIS_URL}
    workers: list[UvicornProcess] = []
    try:
        for name in "ab":  # appended one by one: a failed start still stops the other
            workers.append(auth_worker(env, tmp_path / f"worker-{name}.log"))
        with httpx.Client(timeout=10, headers={"X-Forwarded-For": address}) as client:
            pids = {int(w.wait_ready(client, "/worker").json()["pid"]) for w in workers}
            assert len(pids) == 2 and os.getpid() not in pids  # two separate processes
            a, b = (worker.base for worker in workers)

            def token(base: str, password: str, who: str = email) -> httpx.Response:
                return client.post(
                    base + "/auth/token", data={"username": who, "password": password}
                )

            for attempt in range(10):  # 5 wrong tries on each worker, interleaved
                refused = token(a if attempt % 2 == 0 else b, f"wrong password {attempt}")
                assert refused.status_code == 400, refused.text
                assert refused.json()["error"] == "invalid_grant"
            assert redis_client.get(keys[0]) == b"10"  # one counter for both processes
            assert 0 < redis_client.ttl(keys[0]) <= 60

            for base in (a, b):  # the 11th try, on either worker, even with the right password
                blocked = token(base, app_module.PASSWORD)
                assert blocked.status_code == 429, blocked.text
                assert blocked.headers["retry-after"] == "60"
                assert "access_token" not in blocked.text
            assert redis_client.get(keys[0]) == b"10"  # refused tries do not extend the block

            # The login page shares the counters with the token endpoint.
            page = client.get(b + "/auth/login")
            csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            form = {"username": email, "password": app_module.PASSWORD, "csrf_token": csrf}
            assert client.post(b + "/auth/login", data=form).status_code == 429

            # The address is throttled too: another account from it is refused ...
            assert token(a, app_module.PASSWORD, other_email).status_code == 429
            # ... while that account, from its own address, logs in on both workers.
            for base in (a, b):
                fine = client.post(
                    base + "/auth/token",
                    data={"username": other_email, "password": app_module.PASSWORD},
                    headers={"X-Forwarded-For": other_address},
                )
                assert fine.status_code == 200, fine.text
                bearer = {"Authorization": f"Bearer {fine.json()['access_token']}"}
                assert client.get(a + "/me", headers=bearer).json() == {"email": other_email}
    finally:
        for worker in workers:
            worker.stop()
        redis_client.delete(*keys)
