"""Redis test support: Redis tests need the server on 127.0.0.1:6379. Under CI (CI=true) it
must be there; elsewhere the tests skip with the reason. tests/conftest.py registers
`need_redis`; a Redis test module says `pytestmark = [pytest.mark.redis,
pytest.mark.usefixtures("need_redis")]`."""

import os
import socket

import pytest


def redis_up() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def need_redis() -> None:
    if not redis_up():
        if os.environ.get("CI") == "true":
            pytest.fail("Redis must be running on 127.0.0.1:6379 in CI")
        pytest.skip("Redis is not reachable on 127.0.0.1:6379")
