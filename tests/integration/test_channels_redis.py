"""brace.channels across processes: the chat example (examples/chat) served by two uvicorn
processes sharing the real Redis (required in CI).

A message typed into a WebSocket on process A reaches a WebSocket member on A, another member
of the same room on process B, and the SSE activity feed served by B.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from support_servers import UvicornProcess

pytestmark = [pytest.mark.redis, pytest.mark.usefixtures("need_redis")]

ROOT = Path(__file__).resolve().parents[2]
CHAT_DIR = ROOT / "examples" / "chat"
REDIS_URL = "redis://127.0.0.1:6379/15"
PREFIX = "brace:channel:"  # Channels' default prefix for Redis pub/sub channel names
TIMEOUT = 5.0
OPEN: dict[str, Any] = {"open_timeout": TIMEOUT, "close_timeout": TIMEOUT}


def chat_worker(log: Path) -> UvicornProcess:
    """`uvicorn --app-dir examples/chat app:app` in its own process, channels over Redis."""
    # An activity feed never ends by itself: do not wait for it when stopping.
    args = ["app:app", "--app-dir", str(CHAT_DIR), "--timeout-graceful-shutdown", "2"]
    return UvicornProcess(args, log, {"CHAT_CHANNELS": REDIS_URL})


class Feed:
    """Server-sent events read line by line from a streaming httpx response."""

    def __init__(self, lines: Iterator[str]) -> None:
        self.lines = lines

    def next_event(self) -> tuple[str, Any]:
        """The next event with data: (event name, decoded JSON); comments are skipped."""
        kind = "message"
        data: list[str] = []
        for line in self.lines:
            if line == "":
                if data:
                    return kind, json.loads("\n".join(data))
                kind = "message"
            elif line.startswith("event:"):
                kind = line.removeprefix("event:").strip()
            elif line.startswith("data:"):
                data.append(line.removeprefix("data:").removeprefix(" "))
        raise AssertionError("the activity feed ended")

    def wait_for(self, kind: str, room: str, name: str, deadline: float) -> dict[str, Any]:
        """The next `kind` event of `name` in `room`; others are skipped (the feed may have
        opened before or after earlier joins, and other runs may share this Redis)."""
        while time.monotonic() < deadline:
            got, data = self.next_event()
            if (got, data.get("room"), data.get("name")) == (kind, room, name):
                result: dict[str, Any] = data
                return result
        raise AssertionError(f"no {kind!r} event for {room!r} in time")


def receive(ws: Any, kind: str, deadline: float) -> dict[str, Any]:
    """The next `kind` frame from a room member (earlier frames of other kinds are skipped)."""
    while True:
        frame: dict[str, Any] = json.loads(ws.recv(timeout=max(0.0, deadline - time.monotonic())))
        if frame["type"] == kind:
            return frame


def subscribers(redis_client: Any, group: str) -> int:
    """How many Redis connections listen to a channels group (one per process at most)."""
    ((_, count),) = redis_client.pubsub_numsub(PREFIX + group)
    return int(count)


@pytest.fixture
def redis_client() -> Iterator[Any]:
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    yield client
    client.close()


def test_a_message_reaches_sockets_and_feeds_on_both_processes(
    tmp_path: Path, redis_client: Any
) -> None:
    import httpx
    from websockets.sync.client import connect

    room = f"redis-{secrets.token_hex(6)}"  # this run's own room: nobody else's messages
    text = f"hello across processes <b>{secrets.token_hex(4)}</b>"
    workers: list[UvicornProcess] = []
    try:
        for name in "ab":  # appended one by one: a failed start still stops the other
            workers.append(chat_worker(tmp_path / f"worker-{name}.log"))
        a, b = workers
        with httpx.Client(timeout=TIMEOUT) as http:
            for worker in workers:
                worker.wait_ready(http)
            member = f"/ws/rooms/{room}?name="
            with ExitStack() as stack:
                deadline = time.monotonic() + TIMEOUT
                # One at a time: each member sees its own "joined", then it is subscribed.
                ann = stack.enter_context(connect(a.ws_base + member + "Ann", **OPEN))  # on A
                assert receive(ann, "joined", deadline)["name"] == "Ann"
                bea = stack.enter_context(connect(b.ws_base + member + "Bea", **OPEN))  # on B
                assert receive(bea, "joined", deadline)["name"] == "Bea"
                assert receive(ann, "joined", deadline)["name"] == "Bea"  # from B, via Redis
                response = stack.enter_context(http.stream("GET", b.base + "/activity"))  # B
                assert response.status_code == 200
                assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
                feed = Feed(response.iter_lines())
                assert feed.next_event() == ("ready", {"listening": True})  # B subscribed
                # One pub/sub connection per process carries each group it listens to.
                assert subscribers(redis_client, f"room:{room}") == 2
                assert subscribers(redis_client, "activity") >= 1

                with connect(a.ws_base + member + "Cy", **OPEN) as cy:  # on A
                    deadline = time.monotonic() + TIMEOUT
                    assert receive(cy, "joined", deadline)["name"] == "Cy"
                    cy.send(json.dumps({"text": text}))  # published through A
                    for ws in (ann, bea, cy):
                        message = receive(ws, "message", deadline)
                        assert (message["name"], message["text"]) == ("Cy", text)
                    feed.wait_for("joined", room, "Cy", deadline)
                    assert feed.wait_for("message", room, "Cy", deadline)["text"] == text
                deadline = time.monotonic() + TIMEOUT
                assert receive(bea, "left", deadline)["name"] == "Cy"  # A's news, on B
                feed.wait_for("left", room, "Cy", deadline)

            # Everybody left: both processes unsubscribed from the room.
            deadline = time.monotonic() + TIMEOUT
            while subscribers(redis_client, f"room:{room}") and time.monotonic() < deadline:
                time.sleep(0.05)
            assert subscribers(redis_client, f"room:{room}") == 0
    finally:
        for worker in workers:
            worker.stop()
