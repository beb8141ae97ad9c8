"""Concurrent 32 MiB multipart posts cannot exhaust the server's memory: a junk session cookie
is refused before the body is read, and a form holds at most `max_memory_size` in memory."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from support_servers import UvicornProcess

pytestmark = pytest.mark.server

BOUNDARY = "memorytestboundary"
FIELD = b"x" * (512 * 1024)
BODY_SIZE = 32 * 1024 * 1024
CONCURRENT = 40
BOUND = 256 * 1024 * 1024  # growth of the server's peak resident memory, all posts together


def peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM")


async def multipart_body() -> AsyncIterator[bytes]:
    sent = 0
    index = 0
    while sent < BODY_SIZE:
        head = (f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="f{index}"\r\n\r\n').encode()
        chunk = head + FIELD + b"\r\n"
        sent += len(chunk)
        index += 1
        yield chunk
    yield f"--{BOUNDARY}--\r\n".encode()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[UvicornProcess]:
    log = tmp_path_factory.mktemp("memory") / "uvicorn.log"
    here = Path(__file__).resolve().parent
    process = UvicornProcess(["memory_app:app", "--app-dir", str(here)], log)
    try:
        with httpx.Client() as client:
            process.wait_ready(client)
        yield process
    finally:
        process.stop()


async def post_all(base: str, path: str, cookies: dict[str, str]) -> list[object]:
    headers = {"content-type": f"multipart/form-data; boundary={BOUNDARY}"}
    limits = httpx.Limits(max_connections=CONCURRENT)
    async with httpx.AsyncClient(
        base_url=base, cookies=cookies, timeout=60, limits=limits
    ) as client:

        async def one() -> object:
            try:
                response = await client.post(path, content=multipart_body(), headers=headers)
                return response.status_code
            except httpx.TransportError as exc:  # the server answered early and hung up
                return type(exc).__name__

        return list(await asyncio.gather(*(one() for _ in range(CONCURRENT))))


@pytest.mark.parametrize(
    ("path", "cookies", "status"),
    [
        ("/api/notes", {"session": "junk"}, 403),  # CSRF refuses before reading the body
        ("/login", {}, 413),  # the form's text passes its memory budget
    ],
)
def test_concurrent_big_multipart_posts_stay_within_a_memory_bound(
    server: UvicornProcess, path: str, cookies: dict[str, str], status: int
) -> None:
    before = peak_rss(server.process.pid)
    outcomes = asyncio.run(post_all(server.base, path, cookies))
    grew = peak_rss(server.process.pid) - before
    assert all(o == status or isinstance(o, str) for o in outcomes), outcomes
    assert status in outcomes
    assert grew < BOUND, f"peak resident memory grew by {grew / 2**20:.0f} MiB"
    with httpx.Client(base_url=server.base) as client:
        assert client.get("/").text == "ok"  # still serving
