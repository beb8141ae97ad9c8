"""Ctrl+C with event streams open: the streams end cleanly and the server exits at once, not
after its graceful timeout, and no CancelledError traceback is printed."""

import signal
import socket
import time
from pathlib import Path

import pytest

from support_servers import UvicornProcess

APP = """
import asyncio
from pathlib import Path

from brace import App
from brace.sse import Event, EventStream

app = App()
MARKER = Path(__file__).with_name("closed.txt")


@app.get("/")
async def ready() -> str:
    return "ok"


@app.get("/feed")
async def feed() -> EventStream:
    async def events():
        try:
            n = 0
            while True:
                n += 1
                yield Event({"n": n})
                await asyncio.sleep(0.2)
        finally:
            with MARKER.open("a") as marker:
                marker.write("closed\\n")

    return EventStream(events(), heartbeat=1)
"""


def open_stream(port: int) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock.sendall(b"GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    received = b""
    while b'data: {"n":1}' not in received:
        chunk = sock.recv(4096)
        assert chunk, received
        received += chunk
    return sock


@pytest.mark.server
def test_ctrl_c_ends_open_streams_and_the_server_exits_at_once(tmp_path: Path) -> None:
    (tmp_path / "feedapp.py").write_text(APP)
    # A long graceful timeout: without brace ending the streams, the server would wait 30 s.
    args = ["feedapp:app", "--app-dir", str(tmp_path), "--timeout-graceful-shutdown", "30"]
    server = UvicornProcess(args, tmp_path / "server.log")
    try:
        import httpx

        with httpx.Client() as client:
            server.wait_ready(client)
        streams = [open_stream(server.port) for _ in range(3)]
        started = time.monotonic()
        server.process.send_signal(signal.SIGINT)
        server.process.wait(timeout=20)
        took = time.monotonic() - started
        for sock in streams:
            sock.close()
    finally:
        server.stop()
    log = server.log_path.read_text()
    assert server.process.returncode == 0, log
    assert took < 10, f"the server waited {took:.1f}s for open streams"
    assert "Traceback" not in log and "CancelledError" not in log, log
    assert (tmp_path / "closed.txt").read_text().count("closed") == 3  # generators closed
