#!/usr/bin/env python3
"""In-process cost of one request per app, without a server or a socket: µs per ASGI call.

Each app is called directly with a scope shaped like uvicorn's and no-op receive/send, in a
loop on uvloop. What remains is the framework's own work (routing, extraction, rendering,
building the two ASGI messages), which is what brace controls; the server's share is the same
for every app and is what `run.py` adds on top. Being CPU-only and short, it is much less
disturbed by other jobs on the machine than wrk runs.

  .venv/bin/python micro.py                       # every app, plaintext, json and users
  .venv/bin/python micro.py --apps raw,brace --n 50000
  .venv/bin/python micro.py --apps brace_routes_10,brace_routes_1000 --endpoints route
  .venv/bin/python micro.py --apps raw,brace,starlette,flask --endpoints fortunes --n 5000
  .venv/bin/python micro.py --apps raw,brace,fastapi --endpoints items,items-invalid

Flask is a WSGI app: it is called as `app(environ, start_response)` and its body iterated, a
cost comparable to the ASGI call of the others (gunicorn's own work is left out as uvicorn's is).
"""

import argparse
import asyncio
import importlib
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import serves  # noqa: E402  (after the path is set)

APPS = {
    "raw": "apps.raw_asgi_app",
    "brace": "apps.brace_app",
    "brace_limited": "apps.brace_limited_app",
    "brace_cached": "apps.brace_cached_app",
    "falcon": "apps.falcon_app",
    "blacksheep": "apps.blacksheep_app",
    "starlette": "apps.starlette_app",
    "litestar": "apps.litestar_app",
    "fastapi": "apps.fastapi_app",
    "flask": "apps.flask_app",
    "brace_routes_10": "apps.brace_routes_10",
    "brace_routes_1000": "apps.brace_routes_1000",
}
REQUESTS = {
    "plaintext": ("/plaintext", b""),
    "json": ("/json", b""),
    "users": ("/users/42", b"q=hello"),
    "fortunes": ("/fortunes", b""),
}
# POST endpoints: (path, JSON body). `items-invalid` is `items` with a price that is not a
# number (a 422 problem document): issue 3 asks that it cost no more than the valid one.
BODIES = {
    "items": ("/items", b'{"name":"widget","price":9.99,"tags":["a","b"]}'),
    "items-invalid": ("/items", b'{"name":"widget","price":"cheap","tags":["a","b"]}'),
}
WSGI_APPS = {"flask"}
HEADERS = [
    (b"host", b"127.0.0.1:8000"),
    (b"user-agent", b"wrk"),
    (b"accept", b"*/*"),
]


def scope_for(path: str, query: bytes, body: bytes | None = None) -> dict[str, Any]:
    headers = HEADERS
    if body is not None:
        headers = [
            *HEADERS,
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET" if body is None else "POST",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": query,
        "headers": headers,
        "state": {},
    }


async def lifespan(app: Any) -> tuple[asyncio.Queue[dict[str, Any]], asyncio.Task[None]]:
    """Run the app's start-up, as uvicorn does before the first request."""
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    started = asyncio.Event()
    await inbox.put({"type": "lifespan.startup"})

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(msg: dict[str, Any]) -> None:
        if msg["type"].startswith("lifespan.startup"):
            started.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.ensure_future(app(scope, receive, send))
    await asyncio.wait(
        {task, asyncio.ensure_future(started.wait())}, timeout=5, return_when="FIRST_COMPLETED"
    )
    return inbox, task


async def shutdown(inbox: asyncio.Queue[dict[str, Any]], task: asyncio.Task[None]) -> None:
    await inbox.put({"type": "lifespan.shutdown"})
    try:
        await asyncio.wait_for(task, 5)
    except Exception:  # an app without lifespan support raises here; that is fine
        pass


async def measure(
    app: Any, path: str, query: bytes, n: int, repeats: int, body: bytes | None = None
) -> tuple[float, int]:
    status = 0

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": body or b"", "more_body": False}

    async def send(msg: dict[str, Any]) -> None:
        nonlocal status
        if msg["type"] == "http.response.start":
            status = msg["status"]

    base = scope_for(path, query, body)
    for _ in range(200):
        await app(dict(base), receive, send)
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            await app(dict(base), receive, send)
        best.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(best), status


def wsgi_environ(path: str, query: bytes) -> dict[str, Any]:
    """An environ shaped like gunicorn's for a GET without a body."""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": "GET",
        "SCRIPT_NAME": "",
        "PATH_INFO": path,
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "127.0.0.1",
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }
    for name, value in HEADERS:
        environ["HTTP_" + name.decode().upper().replace("-", "_")] = value.decode("latin-1")
    return environ


def measure_wsgi(
    app: Callable[..., Any], path: str, query: bytes, n: int, repeats: int
) -> tuple[float, int]:
    status = 0

    def start_response(st: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
        nonlocal status
        status = int(st.split(" ", 1)[0])

    def call() -> None:
        body = app(wsgi_environ(path, query), start_response)
        try:
            for _ in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()

    for _ in range(200):
        call()
    best = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(n):
            call()
        best.append((time.perf_counter() - t0) / n * 1e6)
    return statistics.median(best), status


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--apps", default="raw,brace,falcon,blacksheep,starlette,litestar,fastapi")
    ap.add_argument("--endpoints", default="plaintext,json,users", help="also: fortunes, route")
    ap.add_argument("--n", type=int, default=20000, help="calls per repeat")
    ap.add_argument("--repeats", type=int, default=5, help="median over repeats")
    args = ap.parse_args()
    eps = args.endpoints.split(",")
    results: dict[str, dict[str, float]] = {}
    for name in args.apps.split(","):
        app = importlib.import_module(APPS[name]).app
        wsgi = name in WSGI_APPS
        life = None if wsgi else await lifespan(app)
        results[name] = {}
        for ep in eps:
            if ep not in BODIES and not serves(name, ep):  # as in run.py: not implemented
                continue
            body = None
            if ep in BODIES:
                if wsgi or not serves(name, "items"):
                    continue
                (path, body), query = BODIES[ep], b""
            elif ep == "route":
                # The last registered dynamic route, as in run.py's routes scenario.
                path, query = f"/r{int(name.rsplit('_', 1)[1]) - 1}/42/items", b""
            else:
                path, query = REQUESTS[ep]
            if wsgi:
                us, status = measure_wsgi(app, path, query, args.n, args.repeats)
            else:
                us, status = await measure(app, path, query, args.n, args.repeats, body)
            results[name][ep] = us
            print(f"{name:18} {ep:9} {us:7.2f} µs/call  status {status}", flush=True)
        if life is not None:
            await shutdown(*life)
    raw = results.get("raw")
    print("\n| app | " + " | ".join(eps) + " |")
    print("|---|" + "---:|" * len(eps))
    for name, d in results.items():
        cells = []
        for ep in eps:
            if ep not in d:
                cells.append("—")
                continue
            extra = f" ({d[ep] - raw[ep]:+.2f})" if raw and ep in raw and name != "raw" else ""
            cells.append(f"{d[ep]:.2f}{extra}")
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
