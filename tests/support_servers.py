"""uvicorn in its own process, for tests that need several workers (shared Redis state)."""

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class UvicornProcess:
    """`python -m uvicorn <args> --host 127.0.0.1 --port <free>`, its output in `log`."""

    def __init__(self, args: list[str], log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.ws_base = f"ws://127.0.0.1:{self.port}"
        self.log_path = log
        self._log: IO[bytes] = log.open("wb")
        command = [sys.executable, "-m", "uvicorn", *args]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--loop", "asyncio"]
        command += ["--log-level", "warning"]
        self.process = subprocess.Popen(
            command, stdout=self._log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}
        )

    def wait_ready(self, client: Any, path: str = "/", timeout: float = 30.0) -> Any:
        """Block until GET `path` answers 200; that response."""
        import httpx

        deadline = time.monotonic() + timeout
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"uvicorn exited early:\n{self.log_path.read_text()}")
            try:
                response = client.get(self.base + path)
                if response.status_code == 200:
                    return response
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"uvicorn did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        self._log.close()


@contextmanager
def workers(tmp_path: Path, module: str, source: str, count: int = 2) -> Iterator[list[Any]]:
    """`count` uvicorn processes serving `module:app` (written from `source`), each ready
    (GET / answers 200), stopped afterwards: several workers of one app, as in production."""
    import httpx

    (tmp_path / f"{module}.py").write_text(source)
    servers = [
        UvicornProcess([f"{module}:app", "--app-dir", str(tmp_path)], tmp_path / f"w{i}.log")
        for i in range(count)
    ]
    try:
        with httpx.Client() as client:
            for server in servers:
                server.wait_ready(client)
        yield servers
    finally:
        for server in servers:
            server.stop()


def get_all_at_once(urls: list[str]) -> list[Any]:
    """GET every URL concurrently (up to 100 connections); the responses, in order."""
    import asyncio

    import httpx

    async def fire() -> list[Any]:
        limits = httpx.Limits(max_connections=100)
        async with httpx.AsyncClient(limits=limits, timeout=30) as client:
            return list(await asyncio.gather(*(client.get(url) for url in urls)))

    return asyncio.run(fire())
