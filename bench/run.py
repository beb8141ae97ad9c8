#!/usr/bin/env python3
"""brace benchmark: raw ASGI, brace and peer frameworks under one uvicorn, driven by wrk.

Every ASGI app is served by the same command (uvicorn, uvloop + httptools, one worker) pinned to
one CPU (SERVER_CPU, default 1) while wrk runs pinned to another (LOAD_CPU, default 0), on
127.0.0.1. Flask (WSGI) is served by gunicorn's sync worker, one worker, pinned the same way.
A round is: raw app (start) -> each app -> routes scenario -> raw app (end). Ratios are taken
against the mean of the two raw runs of the same round; the report quotes medians over rounds.

Scenarios:
  endpoints   /plaintext, /json, /users/42?q=hello (POST /items with --endpoints ...,items;
              GET /fortunes, a Jinja2 template render, with --endpoints ...,fortunes)
  database    TechEmpower's db, queries (20), fortunes-db and updates (20) against PostgreSQL
              (opt-in: --apps brace_db,brace_asyncpg,fastapi_db --endpoints db,queries,...;
              db_setup.py creates the bench.world / bench.fortune tables first)
  routes      brace with 10 vs 1,000 dynamic routes /r{i}/{id:int}/items; wrk hits the LAST one
  startup     `import brace` time (-X importtime and wall clock) and idle RSS of each worker

Examples (from bench/):
  .venv/bin/python run.py                                      # everything, defaults below
  .venv/bin/python run.py --apps falcon,starlette --duration 2 --warmup 1 --rounds 1 --no-routes
  .venv/bin/python run.py --apps brace,starlette,flask --endpoints fortunes --no-routes
  .venv/bin/python run.py --apps brace_db,brace_asyncpg,fastapi_db \
      --endpoints db,queries,fortunes-db,updates --no-routes --no-startup
  .venv/bin/python run.py --startup-only
  .venv/bin/python run.py --table-only results/<stamp>/results.json
"""

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import re
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv" / "bin"
PY = str(VENV / "python")
UVICORN = str(VENV / "uvicorn")
GUNICORN = str(VENV / "gunicorn")

SERVER_CPU = os.environ.get("SERVER_CPU", "1")
LOAD_CPU = os.environ.get("LOAD_CPU", "0")

REF = "raw"
# "endpoints": what an app implements when it is not every entry of BASIC_ENDPOINTS (the
# endpoints without a database); the others are skipped for it (shown as n/a), not failed.
# "server": "gunicorn" for a WSGI app.
DB_ENDPOINTS = ("db", "queries", "fortunes-db", "updates")
APPS: dict[str, dict[str, Any]] = {
    "raw": {"target": "apps.raw_asgi_app:app", "import": "orjson"},
    "brace": {"target": "apps.brace_app:app", "import": "brace"},
    # brace_app behind a memory rate limit on every route (issue 19: >= 0.95x of brace).
    "brace_limited": {"target": "apps.brace_limited_app:app", "import": "brace.ratelimit"},
    # /json and /users from the response cache (issue 19: a hit >= plaintext speed).
    "brace_cached": {
        "target": "apps.brace_cached_app:app",
        "import": "brace.cache",
        "endpoints": ("plaintext", "json", "users"),
    },
    "falcon": {"target": "apps.falcon_app:app", "import": "falcon.asgi"},
    "blacksheep": {
        "target": "apps.blacksheep_app:app",
        "import": "blacksheep",
        # BlackSheep's view() appends .jinja to template names: no shared fortunes.html.
        "endpoints": ("plaintext", "json", "users", "items"),
    },
    "starlette": {"target": "apps.starlette_app:app", "import": "starlette.applications"},
    "litestar": {"target": "apps.litestar_app:app", "import": "litestar"},
    "fastapi": {"target": "apps.fastapi_app:app", "import": "fastapi"},
    "flask": {"target": "apps.flask_app:app", "import": "flask", "server": "gunicorn"},
    # routes scenario only
    "brace_routes_10": {
        "target": "apps.brace_routes_10:app",
        "routes": 10,
        "endpoints": ("plaintext", "json", "users", "route"),
    },
    "brace_routes_1000": {
        "target": "apps.brace_routes_1000:app",
        "routes": 1000,
        "endpoints": ("plaintext", "json", "users", "route"),
    },
    # Database tests (TechEmpower), against PostgreSQL: opt-in with --apps and --endpoints.
    # brace with brace.db (its ORM layer), brace with raw asyncpg, FastAPI + SQLAlchemy async;
    # all on asyncpg with the same pool size (apps/_db.py).
    "brace_db": {"target": "apps.brace_db_app:app", "endpoints": DB_ENDPOINTS},
    "brace_asyncpg": {"target": "apps.brace_asyncpg_app:app", "endpoints": DB_ENDPOINTS},
    "fastapi_db": {"target": "apps.fastapi_db_app:app", "endpoints": DB_ENDPOINTS},
    # brace_db with pool_pre_ping=False (brace's default is True): what the ping costs.
    "brace_db_noping": {
        "target": "apps.brace_db_app:app",
        "endpoints": DB_ENDPOINTS,
        "env": {"BENCH_DB_PRE_PING": "0"},
    },
}
PEERS = ["falcon", "blacksheep", "starlette", "litestar", "fastapi"]
# Served by another server (gunicorn, WSGI); opt-in with --apps, not part of the default run.
WSGI_PEERS = ["flask"]
ROUTE_APPS = ["brace_routes_10", "brace_routes_1000"]

ITEM_BODY = '{"name":"widget","price":9.99,"tags":["a","b"]}'
ENDPOINTS: dict[str, dict[str, Any]] = {
    "plaintext": {"method": "GET", "path": "/plaintext", "status": 200, "expect": "Hello, World!"},
    "json": {
        "method": "GET",
        "path": "/json",
        "status": 200,
        "expect": {"message": "Hello, World!"},
    },
    "users": {
        "method": "GET",
        "path": "/users/42?q=hello",
        "status": 200,
        "expect": {"id": 42, "q": "hello"},
    },
    "items": {
        "method": "POST",
        "path": "/items",
        "status": 201,
        "expect": {"name": "widget", "price": 9.99, "tags": ["a", "b"]},
    },
    # TechEmpower's fortunes without the database (apps/_fortunes.py, templates/fortunes.html).
    "fortunes": {
        "method": "GET",
        "path": "/fortunes",
        "status": 200,
        "kind": "html",
        "expect": {
            # header row + 10 stored fortunes + the one added at request time
            "rows": 12,
            # sorted by message, escaped, UTF-8
            "in_order": [
                "&lt;script&gt;alert(&#34;This should not be displayed",
                "Additional fortune added at request time.",
                "seniority &amp; &#34;tenure&#34; at the &lt;b&gt;company&lt;/b&gt;.",
                "フレームワークのベンチマーク",
            ],
            "absent": ["<script>", "<b>"],
        },
    },
}
# TechEmpower's database tests (tables from db_setup.py; 20 queries for queries and updates).
_WORLD = {"min": 1, "max": 10_000}
ENDPOINTS.update(
    {
        "db": {
            "method": "GET",
            "path": "/db",
            "status": 200,
            "kind": "world",
            "expect": {**_WORLD, "count": None},
        },
        "queries": {
            "method": "GET",
            "path": "/queries?queries=20",
            "status": 200,
            "kind": "world",
            "expect": {**_WORLD, "count": 20},
        },
        "fortunes-db": {
            "method": "GET",
            "path": "/fortunes-db",
            "status": 200,
            "kind": "html",
            "expect": {
                # header row + 12 stored fortunes + the one added at request time
                "rows": 14,
                "in_order": [
                    "&lt;script&gt;alert(&#34;This should not be displayed",
                    "aren&#39;t broken.",
                    "Additional fortune added at request time.",
                    "Emacs is a nice operating system",
                    "fortune: No such file or directory",
                    "フレームワークのベンチマーク",
                ],
                "absent": ["<script>"],
            },
        },
        "updates": {
            "method": "GET",
            "path": "/updates?queries=20",
            "status": 200,
            "kind": "world",
            # and the returned numbers must be what the table holds afterwards
            "expect": {**_WORLD, "count": 20, "stored": True},
        },
    }
)
BASIC_ENDPOINTS = tuple(ep for ep in ENDPOINTS if ep not in DB_ENDPOINTS)
# Extra `queries` values requested once per database app before loading (TechEmpower's rules:
# clamp to 1..500, anything that is not an integer counts as 1).
QUERIES_EDGE_CASES = {"0": 1, "foo": 1, "": 1, "501": 500, "3": 3}
POST_LUA = HERE / "post_items.lua"

# Issue targets: brace / raw ratio per endpoint, and 1000-route / 10-route throughput.
TARGETS = {"plaintext": 0.90, "json": 0.90, "users": 0.85}
# Issue 4: brace / peer req/s on fortunes, per round (same machine, same run).
FORTUNES_TARGETS = {"starlette": 1.0, "flask": 2.0}
ROUTES_TARGET = 0.95
# Issue 5 (database): brace_db / fastapi_db req/s on each test, per round; and brace with its
# ORM (brace_db) / brace with raw asyncpg (brace_asyncpg) on the single-query test.
DB_PEER_TARGET = ("fastapi_db", 1.3)
DB_RAW_TARGET = ("brace_asyncpg", "db", 0.7)
UVICORN_PRELOAD = "import uvicorn.main, uvicorn.protocols.http.httptools_impl, uvloop"
# `import brace` must not pull in batteries' dependencies.
FORBIDDEN_IMPORTS = ["sqlalchemy", "jinja2", "redis", "alembic", "argon2", "jwt", "multipart"]


def endpoint(app: str, ep: str) -> dict[str, Any]:
    """The endpoint spec, specialised for the routes apps (their last registered route)."""
    if ep == "route":
        last = APPS[app]["routes"] - 1
        return {
            "method": "GET",
            "path": f"/r{last}/42/items",
            "status": 200,
            "expect": {"route": last, "id": 42},
        }
    return ENDPOINTS[ep]


def serves(app: str, ep: str) -> bool:
    """Whether the app implements the endpoint (apps list theirs when not BASIC_ENDPOINTS)."""
    return ep in APPS[app].get("endpoints", BASIC_ENDPOINTS)


def server_cmd(app: str, port: int) -> list[str]:
    if APPS[app].get("server") == "gunicorn":
        # WSGI: one sync worker (one request at a time); gunicorn logs no access by default.
        return [
            "taskset", "-c", SERVER_CPU,
            GUNICORN, APPS[app]["target"],
            "-w", "1", "-k", "sync", "-b", f"127.0.0.1:{port}",
            "--log-level", "warning",
        ]  # fmt: skip
    return [
        "taskset", "-c", SERVER_CPU,
        UVICORN, APPS[app]["target"],
        "--host", "127.0.0.1", "--port", str(port),
        "--loop", "uvloop", "--http", "httptools", "--workers", "1",
        "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip


def py_env() -> dict[str, str]:
    """Environment for every Python that run.py starts (servers and import-time probes).

    Byte code is cached under .venv/pycache for every module alike: pip wrote .pyc files for
    the peers at install time, but brace is installed editable, and with PYTHONDONTWRITEBYTECODE
    (set on some machines) it would be compiled from source at every start, which is not what a
    user who installed it pays.
    """
    env = dict(os.environ, PYTHONPATH=str(HERE), PYTHONPYCACHEPREFIX=str(VENV.parent / "pycache"))
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def http(
    method: str, url: str, body: str | None = None, timeout: float = 3.0
) -> tuple[int, str, bytes]:
    data = body.encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers.get("content-type", ""), r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers.get("content-type", ""), e.read()


def wait_ready(port: int, proc: subprocess.Popen[bytes], app: str, timeout: float = 30.0) -> bool:
    """Poll the app's first GET endpoint until it answers 200."""
    path = next(
        endpoint(app, ep)["path"]
        for ep in [*ENDPOINTS, "route"]
        if serves(app, ep) and endpoint(app, ep)["method"] == "GET"
    )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if http("GET", f"http://127.0.0.1:{port}{path}", timeout=1.0)[0] == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def check_html(body: bytes, ctype: str, expect: dict[str, Any]) -> list[str]:
    """An HTML page: row count, escaped fragments in this order (sorting), nothing unescaped."""
    problems = []
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        return [f"not utf-8 {body[:60]!r}"]
    if (rows := text.count("<tr>")) != expect["rows"]:
        problems.append(f"{rows} rows")
    pos = 0
    for frag in expect["in_order"]:
        i = text.find(frag, pos)
        if i < 0:
            problems.append(f"missing or out of order {frag[:30]!r}")
            break
        pos = i + len(frag)
    problems += [f"unescaped {frag!r}" for frag in expect["absent"] if frag in text]
    if not ctype.startswith("text/html"):
        problems.append(f"ctype {ctype}")
    return problems


def check_worlds(body: bytes, expect: dict[str, Any]) -> tuple[list[str], list[dict[str, Any]]]:
    """World rows: one object (count None) or a list of `count`, ids and numbers in range."""
    try:
        data = json.loads(body)
    except ValueError:
        return [f"non-json {body[:60]!r}"], []
    if expect["count"] is None:
        if not isinstance(data, dict):
            return [f"not an object {body[:60]!r}"], []
        worlds = [data]
    elif not isinstance(data, list) or len(data) != expect["count"]:
        n = len(data) if isinstance(data, list) else type(data).__name__
        return [f"{n} rows, want {expect['count']}"], []
    else:
        worlds = data
    problems = []
    for w in worlds:
        if not isinstance(w, dict) or set(w) != {"id", "randomNumber"}:
            problems.append(f"shape {str(w)[:60]}")
            break
        if not all(
            type(w[k]) is int and expect["min"] <= w[k] <= expect["max"]
            for k in ("id", "randomNumber")
        ):
            problems.append(f"out of range {w}")
            break
    return problems, worlds if not problems else []


def stored_numbers(ids: list[int]) -> dict[int, int]:
    """What bench.world holds for these ids (asyncpg, imported only for the updates check)."""
    import asyncio

    import asyncpg
    from apps._db import ASYNCPG_DSN

    async def fetch() -> dict[int, int]:
        conn = await asyncpg.connect(ASYNCPG_DSN)
        try:
            rows = await conn.fetch(
                "SELECT id, randomnumber FROM bench.world WHERE id = ANY($1)", ids
            )
        finally:
            await conn.close()
        return {r["id"]: r["randomnumber"] for r in rows}

    return asyncio.run(fetch())


def check_queries_param(port: int, app: str) -> list[str]:
    """TechEmpower's rules for ?queries=: clamped to 1..500, not an integer -> 1."""
    problems = []
    for raw, want in QUERIES_EDGE_CASES.items():
        st, _, body = http("GET", f"http://127.0.0.1:{port}/queries?queries={raw}")
        try:
            n = len(json.loads(body)) if st == 200 else None
        except (ValueError, TypeError):
            n = None
        if n != want:
            problems.append(f"queries={raw!r} -> {st} {n} rows (want {want})")
    return problems


def check(port: int, app: str, ep: str) -> tuple[str, int | None]:
    """Verify status, body and content type once before loading an endpoint.

    Returns the verdict and the body's length in bytes (the same for every app when they all
    render the same thing).
    """
    e = endpoint(app, ep)
    body_in = ITEM_BODY if e["method"] == "POST" else None
    try:
        st, ctype, body = http(e["method"], f"http://127.0.0.1:{port}{e['path']}", body_in)
    except OSError as ex:
        return f"ERR {ex!r}", None
    problems = []
    if st != e["status"]:
        problems.append(f"status {st}")
    if e.get("kind") == "html":
        problems += check_html(body, ctype, e["expect"])
    elif e.get("kind") == "world":
        found, worlds = check_worlds(body, e["expect"])
        problems += found
        if "json" not in ctype:
            problems.append(f"ctype {ctype}")
        if worlds and e["expect"]["count"] and len({w["id"] for w in worlds}) != len(worlds):
            problems.append("repeated ids")  # the apps draw distinct ids (apps/_db.py)
        if worlds and e["expect"].get("stored"):
            try:
                stored = stored_numbers([w["id"] for w in worlds])
            except Exception as ex:  # reported in the check column
                problems.append(f"cannot read back: {ex!r}"[:80])
            else:
                lost = [w["id"] for w in worlds if stored.get(w["id"]) != w["randomNumber"]]
                if lost:
                    problems.append(f"{len(lost)} updates not stored")
        if ep == "queries":
            problems += check_queries_param(port, app)
    elif isinstance(e["expect"], str):
        if body.decode(errors="replace") != e["expect"]:
            problems.append(f"body {body[:60]!r}")
        if not ctype.startswith("text/plain"):
            problems.append(f"ctype {ctype}")
    else:
        try:
            if json.loads(body) != e["expect"]:
                problems.append(f"body {body[:80]!r}")
        except ValueError:
            problems.append(f"non-json {body[:60]!r}")
        if "json" not in ctype:
            problems.append(f"ctype {ctype}")
    return ("ok" if not problems else "; ".join(problems)), len(body)


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def worker_pid(pid: int) -> int:
    """The process that serves: uvicorn with one worker serves in-process, but follow children."""
    while kids := _children(pid):
        pid = kids[-1]
    return pid


def rss_kb(pid: int) -> int | None:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    m = re.search(r"^VmRSS:\s+(\d+) kB", status, re.M)
    return int(m.group(1)) if m else None


_CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process, from /proc/PID/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # Fields after the parenthesised command name; utime and stime are fields 14 and 15.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK


def postgres_cpu_seconds() -> float | None:
    """User + system CPU time of every PostgreSQL process on the machine (server and backends).

    PostgreSQL is not pinned (it shares the 2 CPUs with the server and wrk); the difference over
    a measured run, per request, shows how much of the machine the database took. Backends that
    end during the run take their time with them, so this is a lower bound.
    """
    total, found = 0.0, False
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if (d / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        cpu = cpu_seconds(int(d.name))
        if cpu is not None:
            total, found = total + cpu, True
    return total if found else None


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def _ms(tok: str) -> float | None:
    m = re.match(r"([\d.]+)(us|ms|s)$", tok)
    return float(m.group(1)) * _UNITS[m.group(2)] if m else None


def wrk_cmd(url: str, duration: int, conns: int, post: bool = False) -> list[str]:
    cmd = ["taskset", "-c", LOAD_CPU, "wrk", "-t1", f"-c{conns}", f"-d{duration}s"]
    cmd += ["--latency", "--timeout", "4s"]
    if post:
        cmd += ["-s", str(POST_LUA)]
    return [*cmd, url]


def wrk(port: int, app: str, ep: str, duration: int, conns: int) -> dict[str, Any]:
    e = endpoint(app, ep)
    cmd = wrk_cmd(f"http://127.0.0.1:{port}{e['path']}", duration, conns, e["method"] == "POST")
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    res: dict[str, Any] = {
        "cmd": shlex.join(cmd),
        "rps": None,
        "p50_ms": None,
        "p99_ms": None,
        "requests": None,
        "non2xx": 0,
        "socket_errors": "",
        "raw": out,
    }
    if m := re.search(r"Requests/sec:\s+([\d.]+)", out):
        res["rps"] = float(m.group(1))
    if m := re.search(r"^\s+50%\s+(\S+)", out, re.M):
        res["p50_ms"] = _ms(m.group(1))
    if m := re.search(r"^\s+99%\s+(\S+)", out, re.M):
        res["p99_ms"] = _ms(m.group(1))
    if m := re.search(r"(\d+) requests in", out):
        res["requests"] = int(m.group(1))
    if m := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out):
        res["non2xx"] = int(m.group(1))
    if m := re.search(r"Socket errors: (.*)", out):
        res["socket_errors"] = m.group(1).strip()
    return res


def run_app(
    app: str,
    endpoints: list[str],
    args: argparse.Namespace,
    logdir: Path,
    phase: str,
    rnd: int,
) -> list[dict[str, Any]]:
    """Start one server, check and load each endpoint, stop it. Returns one row per endpoint.

    Endpoints the app does not implement are skipped (no row); with none left, nothing starts.
    """
    skipped = [ep for ep in endpoints if not serves(app, ep)]
    endpoints = [ep for ep in endpoints if serves(app, ep)]
    if skipped:
        print(f"r{rnd} {phase:5} {app:18} skips {','.join(skipped)} (not implemented)", flush=True)
    if not endpoints:
        return []
    port = free_port()
    cmd = server_cmd(app, port)
    env = {**py_env(), **APPS[app].get("env", {})}
    base = {
        "app": app,
        "phase": phase,
        "round": rnd,
        "server_cmd": shlex.join(cmd),
        "server_env": APPS[app].get("env", {}),
        # brace may change while a run goes on; the report warns when it did.
        "src": brace_fingerprint(),
    }
    with open(logdir / f"{app}__{phase}__r{rnd}.log", "w") as log:
        proc = subprocess.Popen(
            cmd, cwd=HERE, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
        )
        rows = []
        try:
            if not wait_ready(port, proc, app):
                print(f"!! r{rnd} {app}: failed to start (see {log.name})", flush=True)
                return [
                    {**base, "endpoint": ep, "error": "server failed to start"} for ep in endpoints
                ]
            checks = {ep: check(port, app, ep) for ep in endpoints}
            time.sleep(0.5)
            pid = worker_pid(proc.pid)
            idle_rss = rss_kb(pid)
            for ep in endpoints:
                if args.warmup > 0:
                    wrk(port, app, ep, args.warmup, args.connections)
                is_db = ep in DB_ENDPOINTS
                pg0 = postgres_cpu_seconds() if is_db else None
                cpu0 = cpu_seconds(pid)
                r = wrk(port, app, ep, args.duration, args.connections)
                cpu1 = cpu_seconds(pid)
                pg1 = postgres_cpu_seconds() if is_db else None
                if pg0 is not None and pg1 is not None and r["requests"]:
                    r["pg_cpu_us_per_req"] = (pg1 - pg0) * 1e6 / r["requests"]
                # CPU time per request is far less sensitive than req/s to other jobs taking
                # the server's CPU away, so it is kept as a second opinion on a shared machine.
                if cpu0 is not None and cpu1 is not None and r["requests"]:
                    r["cpu_us_per_req"] = (cpu1 - cpu0) * 1e6 / r["requests"]
                    r["server_busy"] = (cpu1 - cpu0) / args.duration
                r.update(base)
                r.update(
                    endpoint=ep,
                    check=checks[ep][0],
                    body_bytes=checks[ep][1],
                    idle_rss_kb=idle_rss,
                    loadavg=os.getloadavg()[0],
                    t=time.time(),
                )
                rows.append(r)
                p99 = f"{r['p99_ms']:.2f}ms" if r["p99_ms"] is not None else "?"
                cpu = r.get("cpu_us_per_req")
                print(
                    f"r{rnd} {phase:5} {app:18} {ep:9} {r['rps'] or 0:>9.0f} rps  p99 {p99:>9}  "
                    f"cpu/req {fmt(cpu, '.1f')}us busy {fmt(r.get('server_busy'), '.2f')}  "
                    f"non2xx={r['non2xx']} sock[{r['socket_errors']}] check={r['check']} "
                    f"load={r['loadavg']:.2f}",
                    flush=True,
                )
            after = rss_kb(pid)
            for r in rows:
                r["after_rss_kb"] = after
        finally:
            stop(proc)
    return rows


# --------------------------------------------------------------------------- start-up


def _venv_run(code: list[str], capture: str = "stderr") -> tuple[float, str]:
    """Run the venv's python pinned to the server CPU; returns (wall seconds, captured stream)."""
    env = py_env()
    cmd = ["taskset", "-c", SERVER_CPU, PY, *code]
    t0 = time.perf_counter()
    p = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=60, cwd=HERE)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        raise RuntimeError(f"{shlex.join(cmd)} failed: {p.stderr[-500:]}")
    return wall, p.stderr if capture == "stderr" else p.stdout


_IMPORTTIME = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)$")


def _importtime(stmt: str) -> tuple[list[tuple[int, int, int, str]], str]:
    _, err = _venv_run(["-X", "importtime", "-c", stmt])
    lines = []
    for line in err.splitlines():
        if m := _IMPORTTIME.match(line):
            lines.append((int(m.group(1)), int(m.group(2)), len(m.group(3)), m.group(4)))
    return lines, err


def import_cost(module: str, runs: int, preload: str = "") -> dict[str, Any]:
    """Median over runs of the summed cumulative import time of the top-level imports of module.

    Imports done by the interpreter's own start-up (site, encodings) appear in `-c pass` too and
    are left out; what remains at nesting level 0 is what `import module` triggered. With
    `preload` (say `import uvicorn`), what that statement imports is left out as well: the
    marginal cost of the module in a process that already has them.
    """
    before = preload or "pass"
    baseline = {name for _, _, _, name in _importtime(before)[0]}
    totals = []
    new: list[tuple[int, int, int, str]] = []
    for _ in range(runs + 1):  # the first run may still write .pyc files: dropped
        lines, _ = _importtime(f"{before}; import {module}")
        new = [ln for ln in lines if ln[3] not in baseline]
        totals.append(sum(cum for _, cum, indent, _ in new if indent == 1))
    totals = totals[1:]
    # importtime also lists failed attempts (nt, msvcrt, ...): ask sys.modules what really loaded.
    code = (
        f"import sys; {before}; b = set(sys.modules); "
        f"import {module}; print(' '.join(sorted(set(sys.modules) - b)))"
    )
    _, out = _venv_run(["-c", code], capture="stdout")
    modules = set(out.split())
    tops = {m.split(".")[0] for m in modules}
    stdlib = getattr(sys, "stdlib_module_names", frozenset())
    return {
        "module": module,
        "preload": preload,
        "cumulative_ms": statistics.median(totals) / 1000,
        "modules": len(modules),
        "forbidden": sorted(
            m for m in modules if any(m == f or m.startswith(f + ".") for f in FORBIDDEN_IMPORTS)
        ),
        "third_party": sorted(t for t in tops if t not in stdlib),
        "stdlib": sorted(t for t in tops if t in stdlib and not t.startswith("_")),
        # From the last run: where the time goes, by the module's own (self) time.
        "slowest_self_ms": [
            (name, self_us / 1000) for self_us, _, _, name in sorted(new, reverse=True)[:12]
        ],
    }


def import_wall(module: str, runs: int) -> dict[str, float]:
    """Median wall time of `python -c "import module"` and of `python -c pass` (interpreter)."""
    _venv_run(["-c", f"import {module}"])  # warm .pyc and page cache
    base = [_venv_run(["-c", "pass"])[0] for _ in range(runs)]
    full = [_venv_run(["-c", f"import {module}"])[0] for _ in range(runs)]
    b, f = statistics.median(base), statistics.median(full)
    return {"interpreter_ms": b * 1000, "with_import_ms": f * 1000, "import_ms": (f - b) * 1000}


def measure_startup(apps: list[str], runs: int) -> dict[str, Any]:
    out: dict[str, Any] = {"runs": runs, "imports": {}, "wall": {}}
    for app in apps:
        mod = APPS[app].get("import")
        if not mod:
            continue
        try:
            out["imports"][app] = import_cost(mod, runs)
            if app == "brace":
                out["wall"][app] = import_wall(mod, runs)
                # What a server process pays on top of what uvicorn already imported.
                out["imports"]["brace (after uvicorn)"] = import_cost(mod, runs, UVICORN_PRELOAD)
        except RuntimeError as ex:
            out["imports"][app] = {"module": mod, "error": str(ex)}
        for name in [app, "brace (after uvicorn)"] if app == "brace" else [app]:
            d = out["imports"][name]
            print(
                f"startup {name:22} import {fmt(d.get('cumulative_ms'), '.1f')} ms, "
                f"{d.get('modules')} modules {d.get('error', '')}",
                flush=True,
            )
    return out


# --------------------------------------------------------------------------- environment


def brace_fingerprint() -> str:
    """Short sha256 of brace's sources and the bench apps: which code a launch really ran."""
    digest = hashlib.sha256()
    for root in (HERE.parent / "src" / "brace", HERE / "apps"):
        for f in sorted(root.rglob("*.py")):
            digest.update(f.read_bytes())
    return digest.hexdigest()[:12]


def environment() -> dict[str, Any]:
    cpu = "?"
    try:
        m = re.search(r"^model name\s*:\s*(.+)$", Path("/proc/cpuinfo").read_text(), re.M)
        cpu = m.group(1).strip() if m else "?"
    except OSError:
        pass
    code = (
        "import importlib.metadata as m, json, sys; "
        "names = ['brace','uvicorn','uvloop','httptools','falcon','blacksheep','starlette',"
        "'litestar','fastapi','msgspec','pydantic','orjson','flask','gunicorn','jinja2',"
        "'sqlalchemy','asyncpg']; "
        "v = {}\n"
        "for n in names:\n"
        "    try: v[n] = m.version(n)\n"
        "    except m.PackageNotFoundError: v[n] = None\n"
        "print(json.dumps({'python': sys.version.split()[0], 'versions': v}))"
    )
    info = json.loads(subprocess.run([PY, "-c", code], capture_output=True, text=True).stdout)
    wrk_v = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    git = subprocess.run(
        ["git", "-C", str(HERE.parent), "log", "-1", "--format=%h"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(HERE.parent), "status", "--porcelain", "--", "src"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    mem = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
    return {
        "date": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "mem_gib": round(int(mem.group(1)) / 2**20, 1) if mem else None,
        "kernel": platform.release(),
        "wrk": (wrk_v.stdout + wrk_v.stderr).split("\n")[0].strip(),
        "server_cpu": SERVER_CPU,
        "load_cpu": LOAD_CPU,
        "brace_commit": (git or "no commit") + (" + uncommitted changes in src/" if dirty else ""),
        "brace_src_sha256": brace_fingerprint(),
        **info,
    }


# --------------------------------------------------------------------------- report


def fmt(v: float | None, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def _med(xs: list[float]) -> float | None:
    return statistics.median(xs) if xs else None


def analyse(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-round ratios to the raw reference, then medians per app and endpoint."""
    ok = [r for r in rows if r.get("rps")]
    refs: dict[tuple[str, int], list[float]] = {}
    cpu_refs: dict[tuple[str, int], list[float]] = {}
    for r in ok:
        if r["app"] == REF:
            refs.setdefault((r["endpoint"], r["round"]), []).append(r["rps"])
            if r.get("cpu_us_per_req"):
                cpu_refs.setdefault((r["endpoint"], r["round"]), []).append(r["cpu_us_per_req"])
    agg: dict[str, dict[str, dict[str, Any]]] = {}
    for r in ok:
        ref = refs.get((r["endpoint"], r["round"]))
        a = agg.setdefault(r["app"], {}).setdefault(
            r["endpoint"],
            {
                "rps": [],
                "ratio": [],
                "p99": [],
                "cpu": [],
                "cpu_ratio": [],
                "pg_cpu": [],
                "busy": [],
                "by_round": {},
                "cpu_by_round": {},
                "checks": set(),
            },
        )
        if r.get("pg_cpu_us_per_req") is not None:
            a["pg_cpu"].append(r["pg_cpu_us_per_req"])
        if r.get("server_busy") is not None:
            a["busy"].append(r["server_busy"])
        cpu = r.get("cpu_us_per_req")
        cpu_ref = cpu_refs.get((r["endpoint"], r["round"]))
        if cpu:
            a["cpu"].append(cpu)
            a["cpu_by_round"].setdefault(r["round"], []).append(cpu)
            if cpu_ref and r["app"] != REF:
                # Same orientation as the req/s ratio: raw's cost / app's cost.
                a["cpu_ratio"].append(statistics.mean(cpu_ref) / cpu)
        a["rps"].append(r["rps"])
        a["checks"].add(r.get("check", "?"))
        if r["p99_ms"] is not None:
            a["p99"].append(r["p99_ms"])
        if ref and r["app"] != REF:
            a["ratio"].append(r["rps"] / statistics.mean(ref))
        a["by_round"].setdefault(r["round"], []).append(r["rps"])
    for d in agg.values():
        for a in d.values():
            a["rps_med"] = _med(a["rps"])
            a["ratio_med"] = _med(a["ratio"])
            a["p99_med"] = _med(a["p99"])
            a["cpu_med"] = _med(a["cpu"])
            a["cpu_ratio_med"] = _med(a["cpu_ratio"])
            a["pg_cpu_med"] = _med(a["pg_cpu"])
            a["busy_med"] = _med(a["busy"])
    return {"refs": refs, "cpu_refs": cpu_refs, "agg": agg}


def routes_summary(agg: dict[str, Any]) -> dict[str, Any] | None:
    small, big = (agg.get(a, {}).get("route") for a in ROUTE_APPS)
    if not small or not big:
        return None
    per_round = {}
    for rnd, xs in sorted(small["by_round"].items()):
        ys = big["by_round"].get(rnd)
        if ys:
            per_round[rnd] = (
                statistics.mean(xs),
                statistics.mean(ys),
                statistics.mean(ys) / statistics.mean(xs),
            )
    ratios = [v[2] for v in per_round.values()]
    cpu_ratios = []
    for rnd, xs in small["cpu_by_round"].items():
        ys = big["cpu_by_round"].get(rnd)
        if ys:
            cpu_ratios.append(statistics.mean(xs) / statistics.mean(ys))
    return {
        "per_round": per_round,
        "ratio_med": _med(ratios),
        "cpu_ratio_med": _med(cpu_ratios),
        "small": small,
        "big": big,
    }


def _mean(xs: list[float] | None) -> float | None:
    return statistics.mean(xs) if xs else None


def fortunes_summary(agg: dict[str, Any]) -> dict[str, Any] | None:
    """brace / peer on fortunes, per round (req/s) and peer / brace CPU per request."""
    mine = agg.get("brace", {}).get("fortunes")
    if not mine:
        return None
    peers = [p for p in FORTUNES_TARGETS if "fortunes" in agg.get(p, {})]
    peers += [p for p in [*PEERS, *WSGI_PEERS] if p not in peers and "fortunes" in agg.get(p, {})]
    if not peers:
        return None
    per_round: dict[str, dict[int, float]] = {}
    ratio_med: dict[str, float | None] = {}
    cpu_ratio_med: dict[str, float | None] = {}
    for p in peers:
        theirs = agg[p]["fortunes"]
        per_round[p] = {
            rnd: statistics.mean(xs) / statistics.mean(theirs["by_round"][rnd])
            for rnd, xs in mine["by_round"].items()
            if rnd in theirs["by_round"]
        }
        ratio_med[p] = _med(list(per_round[p].values()))
        cpu_ratio_med[p] = _med(
            [
                statistics.mean(theirs["cpu_by_round"][rnd]) / statistics.mean(xs)
                for rnd, xs in mine["cpu_by_round"].items()
                if rnd in theirs["cpu_by_round"]
            ]
        )
    return {
        "peers": peers,
        "rounds": sorted(mine["by_round"]),
        "per_round": per_round,
        "ratio_med": ratio_med,
        "cpu_ratio_med": cpu_ratio_med,
    }


def pair_ratios(mine: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """mine / theirs req/s per round (mean of the round's runs), and theirs / mine server CPU
    per request (higher is better for `mine` in both); medians over rounds."""
    per_round = {
        rnd: statistics.mean(xs) / statistics.mean(theirs["by_round"][rnd])
        for rnd, xs in mine["by_round"].items()
        if rnd in theirs["by_round"]
    }
    cpu = [
        statistics.mean(theirs["cpu_by_round"][rnd]) / statistics.mean(xs)
        for rnd, xs in mine["cpu_by_round"].items()
        if rnd in theirs["cpu_by_round"]
    ]
    return {
        "per_round": per_round,
        "ratio_med": _med(list(per_round.values())),
        "cpu_ratio_med": _med(cpu),
        "checks": mine["checks"] | theirs["checks"],
    }


DB_APPS = ["brace_db", "brace_asyncpg", "fastapi_db", "brace_db_noping"]
# (app, other): the ratios the database table shows; the first two are the issue's targets.
DB_PAIRS = [
    ("brace_db", "fastapi_db"),
    ("brace_db", "brace_asyncpg"),
    ("brace_db_noping", "fastapi_db"),
    ("brace_db_noping", "brace_asyncpg"),
]


def db_summary(agg: dict[str, Any]) -> dict[str, Any] | None:
    """brace_db against fastapi_db (each database test) and brace_asyncpg (single query is the
    target), and the same for brace_db_noping when it ran; per round, medians."""
    eps = [ep for ep in DB_ENDPOINTS if any(ep in agg.get(a, {}) for a in DB_APPS)]
    if not eps or "brace_db" not in agg:
        return None
    vs: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for mine, other in DB_PAIRS:
        for ep in eps:
            if ep in agg.get(mine, {}) and ep in agg.get(other, {}):
                vs.setdefault((mine, other), {})[ep] = pair_ratios(agg[mine][ep], agg[other][ep])
    return {"endpoints": eps, "vs": vs}


def make_report(data: dict[str, Any]) -> str:
    meta, rows = data["meta"], data["rows"]
    env = meta.get("env", {})
    endpoints = meta["endpoints"]
    an = analyse(rows)
    agg = an["agg"]
    out: list[str] = []
    w = out.append

    w("## Machine and command\n")
    if env:
        v = env.get("versions", {})
        w(f"- date: {env['date']}")
        w(
            f"- machine: {env['nproc']} CPUs ({env['cpu']}), {env['mem_gib']} GiB, "
            f"Linux {env['kernel']}; shared with other jobs (load average logged per run)"
        )
        w(
            f"- python {env['python']}, uvicorn {v.get('uvicorn')} (uvloop {v.get('uvloop')}, "
            f"httptools {v.get('httptools')}), {env['wrk']}"
        )
        names = ["brace", *PEERS, "msgspec", "pydantic"]
        if any(a in WSGI_PEERS for a in meta["apps"]):
            names += [*WSGI_PEERS, "gunicorn"]
        if "fortunes" in endpoints or "fortunes-db" in endpoints:
            names.append("jinja2")
        if any(ep in DB_ENDPOINTS for ep in endpoints):
            names += ["sqlalchemy", "asyncpg"]
        peers = ", ".join(f"{n} {v.get(n)}" for n in names)
        w(f"- apps: {peers}")
        if "brace_commit" in env:
            w(
                f"- brace source: {env['brace_commit']}; sha256 of src/brace/**/*.py and "
                f"bench/apps/*.py at the start: {env['brace_src_sha256']}"
            )
        w(f"- server pinned to CPU {env['server_cpu']}, wrk pinned to CPU {env['load_cpu']}")
    versions = sorted({r["src"] for r in rows if r.get("src")})
    if len(versions) > 1:
        w(
            f"- **warning: the sources of brace or of the apps changed during this run** "
            f"({len(versions)} versions: {', '.join(versions)}); compare rounds with care"
        )
    w(f"- command (from bench/): `{meta['command']}`")
    w(
        f"- per app: {meta['warmup']} s warm-up (discarded) + {meta['duration']} s measured, "
        f"{meta['connections']} connections, {meta['rounds']} alternating round(s)"
    )
    if rows:
        # One line per server (uvicorn for ASGI, gunicorn for WSGI) with the apps it served.
        servers: dict[str, tuple[str, list[str]]] = {}
        for r in rows:
            target = APPS[r["app"]]["target"]
            cmd, apps = servers.setdefault(
                APPS[r["app"]].get("server", "uvicorn"),
                (r["server_cmd"].replace(target, "apps.<app>:app"), []),
            )
            if r["app"] not in apps:
                apps.append(r["app"])
        for kind, (cmd, apps) in servers.items():
            w(f"- server ({kind}: {', '.join(apps)}): `{cmd}`")
        w(f"- load: `{rows[0].get('cmd', '?')}`")
    w("")

    main_apps = [a for a in [REF, *meta["apps"]] if a in agg and a not in ROUTE_APPS]
    if main_apps:
        w("## Throughput, latency and ratio to raw ASGI\n")
        w(
            "Cell: median req/s over rounds · median ratio to the raw app of the same round "
            "[min-max] · median p99 latency. Raw: median of its start and end runs.\n"
        )
        w("| app | " + " | ".join(endpoints) + " |")
        w("|---|" + "---:|" * len(endpoints))
        for app in main_apps:
            cells = []
            for ep in endpoints:
                a = agg[app].get(ep)
                if not a:
                    cells.append("—" if serves(app, ep) else "n/a")
                    continue
                ratio = "1.00" if app == REF else fmt(a["ratio_med"], ".2f")
                if app != REF and len(a["ratio"]) > 1:
                    ratio += f" [{min(a['ratio']):.2f}-{max(a['ratio']):.2f}]"
                bad = "" if a["checks"] == {"ok"} else " ⚠ " + "/".join(sorted(a["checks"]))
                cells.append(
                    f"{a['rps_med']:,.0f} · {ratio}x · p99 {fmt(a['p99_med'], '.2f')} ms{bad}"
                )
            w(f"| {app} | " + " | ".join(cells) + " |")
        w("")
        w("### Second opinion: server CPU time per request\n")
        w(
            "User + system CPU seconds of the worker during the measured run ÷ requests served "
            "(µs/req, median over rounds), and raw's cost ÷ the app's cost in the same round "
            "(median [min-max]). Unlike req/s this barely moves when other jobs take the "
            "server's CPU away; higher ratio is better, like req/s.\n"
        )
        w("| app | " + " | ".join(endpoints) + " |")
        w("|---|" + "---:|" * len(endpoints))
        for app in main_apps:
            cells = []
            for ep in endpoints:
                a = agg[app].get(ep)
                if not a or a["cpu_med"] is None:
                    cells.append("—" if serves(app, ep) else "n/a")
                    continue
                ratio = "1.00" if app == REF else fmt(a["cpu_ratio_med"], ".2f")
                if app != REF and len(a["cpu_ratio"]) > 1:
                    ratio += f" [{min(a['cpu_ratio']):.2f}-{max(a['cpu_ratio']):.2f}]"
                cells.append(f"{a['cpu_med']:.1f} µs · {ratio}x")
            w(f"| {app} | " + " | ".join(cells) + " |")
        w("")

    fs = fortunes_summary(agg)
    if fs:
        w("## Fortunes: brace against Starlette and Flask, same template, same round\n")
        w(
            "`GET /fortunes`: 10 fortunes in memory + 1 added per request, sorted, rendered by "
            "Jinja2 from `templates/fortunes.html` with autoescaping. Ratios are taken per round "
            "(brace req/s ÷ peer req/s; for CPU, peer µs/req ÷ brace µs/req) and the median is "
            "shown. Flask runs under gunicorn's sync worker (WSGI, one worker, a new connection "
            "per request), the others under uvicorn.\n"
        )
        apps = [a for a in [REF, "brace", *fs["peers"]] if a in agg and "fortunes" in agg[a]]
        w("| round | " + " | ".join(f"{a} req/s" for a in apps) + " | "
          + " | ".join(f"brace/{p}" for p in fs["peers"]) + " |")  # fmt: skip
        w("|---:|" + "---:|" * (len(apps) + len(fs["peers"])))
        for rnd in fs["rounds"]:
            cells = [fmt(_mean(agg[a]["fortunes"]["by_round"].get(rnd)), ",.0f") for a in apps]
            cells += [fmt(fs["per_round"][p].get(rnd), ".2f") for p in fs["peers"]]
            w(f"| {rnd} | " + " | ".join(cells) + " |")
        cells = [fmt(agg[a]["fortunes"]["rps_med"], ",.0f") for a in apps]
        cells += [f"**{fmt(fs['ratio_med'][p], '.2f')}x**" for p in fs["peers"]]
        w("| median | " + " | ".join(cells) + " |")
        cells = [f"{fmt(agg[a]['fortunes']['cpu_med'], '.1f')} µs" for a in apps]
        cells += [f"{fmt(fs['cpu_ratio_med'][p], '.2f')}x" for p in fs["peers"]]
        w("| CPU/req | " + " | ".join(cells) + " |")
        sizes = {
            r["app"]: r["body_bytes"]
            for r in rows
            if r.get("endpoint") == "fortunes" and r.get("body_bytes") is not None
        }
        if sizes:
            same = "identical" if len(set(sizes.values())) == 1 else "**different**"
            w(
                f"\nBody size ({same}): "
                + ", ".join(f"{a} {n:,} B" for a, n in sizes.items())
                + ".\n"
            )
        else:
            w("")

    ds = db_summary(agg)
    if ds:
        w("## Database: TechEmpower's tests against PostgreSQL, same run\n")
        w(
            "`bench.world` (10,000 rows) and `bench.fortune` (12 rows) in PostgreSQL, created by "
            "`db_setup.py`. `db`: one random row; `queries`: 20 random rows, one query each; "
            "`fortunes-db`: every fortune + 1 added per request, sorted, rendered by Jinja2 "
            "from `templates/fortunes.html`; `updates`: 20 random rows read one by one, given "
            "new random numbers and written back. Same driver (asyncpg) and the same pool size "
            "for every app (`apps/_db.py`). Ratios are taken per round and the median is shown "
            "[min-max]. `brace_db_noping` (when it ran) is brace_db with "
            "`pool_pre_ping=False` (brace's default is a ping per checkout).\n"
        )
        if meta.get("db_setup"):
            w(f"Database: {meta['db_setup']}.\n")
        w(
            "PostgreSQL is **not pinned**: it runs on both CPUs, beside the server (CPU "
            f"{env.get('server_cpu', SERVER_CPU)}) and wrk (CPU {env.get('load_cpu', LOAD_CPU)}), "
            "so what it costs per request slows down both. `pg µs/req` is the CPU time of "
            "every postgres process during the measured run ÷ requests; `busy` is the "
            "server's CPU seconds ÷ wall seconds (below 1: it waited for the database).\n"
        )
        apps = [a for a in DB_APPS if a in agg]
        others = [pair for pair in DB_PAIRS if pair in ds["vs"]]
        w(
            "| test | "
            + " | ".join(f"{a} req/s" for a in apps)
            + " | "
            + " | ".join(f"{a}/{b}" for a, b in others)
            + " |"
        )
        w("|---|" + "---:|" * (len(apps) + len(others)))
        for ep in ds["endpoints"]:
            cells = []
            for a in apps:
                d = agg[a].get(ep)
                bad = (
                    "" if not d or d["checks"] == {"ok"} else " ⚠ " + "/".join(sorted(d["checks"]))
                )
                cells.append(fmt(d and d["rps_med"], ",.0f") + bad)
            for pair in others:
                pr = ds["vs"][pair].get(ep)
                if not pr or pr["ratio_med"] is None:
                    cells.append("—")
                    continue
                xs = list(pr["per_round"].values())
                rng = f" [{min(xs):.2f}-{max(xs):.2f}]" if len(xs) > 1 else ""
                cells.append(f"**{pr['ratio_med']:.2f}x**{rng}")
            w(f"| {ep} | " + " | ".join(cells) + " |")
        w("")
        w(
            "Per request (medians over rounds): server CPU µs · PostgreSQL CPU µs · p99 latency "
            "· server busy.\n"
        )
        w("| test | " + " | ".join(apps) + " |")
        w("|---|" + "---:|" * len(apps))
        for ep in ds["endpoints"]:
            cells = []
            for a in apps:
                d = agg[a].get(ep)
                if not d:
                    cells.append("—")
                    continue
                cells.append(
                    f"{fmt(d['cpu_med'], '.0f')} · {fmt(d['pg_cpu_med'], '.0f')} µs · "
                    f"p99 {fmt(d['p99_med'], '.1f')} ms · {fmt(d['busy_med'], '.2f')}"
                )
            w(f"| {ep} | " + " | ".join(cells) + " |")
        w("")
        rounds = sorted({r for a in apps for d in agg[a].values() for r in d["by_round"]})
        if len(rounds) > 1:
            w("Per round, req/s (brace_db / fastapi_db):\n")
            w("| test | " + " | ".join(f"round {r}" for r in rounds) + " |")
            w("|---|" + "---:|" * len(rounds))
            for ep in ds["endpoints"]:
                cells = []
                for rnd in rounds:
                    mine = _mean(agg["brace_db"][ep]["by_round"].get(rnd))
                    theirs = _mean(
                        agg.get("fastapi_db", {}).get(ep, {}).get("by_round", {}).get(rnd)
                    )
                    ratio = f" ({mine / theirs:.2f}x)" if mine and theirs else ""
                    cells.append(f"{fmt(mine, ',.0f')} / {fmt(theirs, ',.0f')}{ratio}")
                w(f"| {ep} | " + " | ".join(cells) + " |")
            w("")

    rs = routes_summary(agg)
    if rs:
        w("## Routes scenario: 1,000 vs 10 dynamic routes (request to the last one)\n")
        w("| round | 10 routes req/s | 1,000 routes req/s | 1000/10 |")
        w("|---:|---:|---:|---:|")
        for rnd, (a, b, r) in rs["per_round"].items():
            w(f"| {rnd} | {a:,.0f} | {b:,.0f} | {r:.3f} |")
        w(
            f"| median | {rs['small']['rps_med']:,.0f} | {rs['big']['rps_med']:,.0f} | "
            f"**{fmt(rs['ratio_med'], '.3f')}** |"
        )
        w("")
        w(
            f"Server CPU per request: {fmt(rs['small']['cpu_med'], '.1f')} µs (10) vs "
            f"{fmt(rs['big']['cpu_med'], '.1f')} µs (1,000), ratio 10/1000 = "
            f"{fmt(rs['cpu_ratio_med'], '.3f')} (median of rounds; ≥ 0.95 means no slowdown).  "
        )
        w(
            f"p99: {fmt(rs['small']['p99_med'], '.2f')} ms (10) vs "
            f"{fmt(rs['big']['p99_med'], '.2f')} ms (1,000); checks: "
            f"{'/'.join(sorted(rs['small']['checks'] | rs['big']['checks']))}\n"
        )

    st = meta.get("startup")
    if st and st.get("imports"):
        w("## Start-up cost\n")
        w(
            f"Import time: `python -X importtime -c 'import MODULE'`, sum of the cumulative time "
            f"of the imports it triggers at top level (interpreter start-up excluded), median of "
            f"{st['runs']} runs, CPU {SERVER_CPU}.\n"
        )
        w("| app | module | import ms | modules loaded | battery deps imported |")
        w("|---|---|---:|---:|---|")
        for app, d in st["imports"].items():
            if "error" in d:
                w(f"| {app} | {d['module']} | error | | {d['error'][:80]} |")
                continue
            forb = ", ".join(d["forbidden"]) or "none"
            mod = f"`{d['preload']}; import {d['module']}`" if d.get("preload") else d["module"]
            w(
                f"| {app} | {mod} | {d['cumulative_ms']:.1f} | {d['modules']} | "
                f"{forb if app.startswith('brace') else ''} |"
            )
        w("")
        if "brace" in st.get("wall", {}):
            wb = st["wall"]["brace"]
            w(
                f"Wall clock, median of {st['runs']}: `python -c 'import brace'` "
                f"{wb['with_import_ms']:.1f} ms vs `python -c pass` {wb['interpreter_ms']:.1f} ms "
                f"→ **{wb['import_ms']:.1f} ms** for `import brace`.\n"
            )
        bi = st["imports"].get("brace", {})
        if bi.get("third_party"):
            w(
                f"`import brace` loads these packages: {', '.join(bi['third_party'])}; and from "
                f"the standard library: {', '.join(bi['stdlib'])}.\n"
            )
            slow = ", ".join(f"{n} {ms:.1f}" for n, ms in bi["slowest_self_ms"])
            w(f"Slowest modules by self time (ms, one run): {slow}.\n")

    rss: dict[str, list[int]] = {}
    for r in rows:
        if r.get("idle_rss_kb"):
            rss.setdefault(r["app"], []).append(r["idle_rss_kb"])
    if rss:
        raw_rss = _med(rss.get(REF, []))
        w("## Memory of an idle worker\n")
        w(
            "VmRSS of the worker process (uvicorn's, or gunicorn's for WSGI) after start-up and "
            "one request per endpoint (before load), median over launches.\n"
        )
        w("| app | idle RSS MiB | vs raw |")
        w("|---|---:|---:|")
        for app, xs in rss.items():
            m = statistics.median(xs)
            extra = f"{(m - raw_rss) / 1024:+.1f} MiB" if raw_rss and app != REF else ""
            w(f"| {app} | {m / 1024:.1f} | {extra} |")
        w("")

    brace = agg.get("brace", {})
    if brace or ds:
        w("## Targets\n")
        w(
            "Verdict on the req/s ratios (what the issue asks); the CPU-per-request ratio is "
            "shown beside it as a second opinion.\n"
        )
        w("| target | req/s ratio | verdict | CPU/req ratio | verdict |")
        w("|---|---|---|---|---|")
        for ep, goal in TARGETS.items():
            a = brace.get(ep)
            if not a or a["ratio_med"] is None:
                continue
            checked = a["checks"] == {"ok"}
            c = a["cpu_ratio_med"]
            w(
                f"| brace ≥ {goal:.2f}x raw on {ep} | {a['ratio_med']:.2f}x | "
                f"{verdict(a['ratio_med'] >= goal and checked)} | {fmt(c, '.2f')}x | "
                f"{verdict(c is not None and c >= goal and checked)} |"
            )
        for peer, goal in FORTUNES_TARGETS.items():
            if not fs or peer not in fs["ratio_med"]:
                continue
            r_, c = fs["ratio_med"][peer], fs["cpu_ratio_med"][peer]
            checked = agg["brace"]["fortunes"]["checks"] | agg[peer]["fortunes"]["checks"]
            w(
                f"| brace ≥ {goal:.1f}x {peer} on fortunes | {fmt(r_, '.2f')}x | "
                f"{verdict(r_ is not None and r_ >= goal and checked == {'ok'})} | "
                f"{fmt(c, '.2f')}x | {verdict(c is not None and c >= goal and checked == {'ok'})} |"
            )
        for ep in endpoints:
            a = brace.get(ep)
            peers = {p: agg[p][ep] for p in [*PEERS, *WSGI_PEERS] if p in agg and ep in agg[p]}
            if not a or not peers or a["ratio_med"] is None:
                continue
            best, bd = max(peers.items(), key=lambda kv: kv[1]["ratio_med"] or 0)
            cbest, cbd = max(peers.items(), key=lambda kv: kv[1]["cpu_ratio_med"] or 0)
            c = a["cpu_ratio_med"]
            ahead = a["ratio_med"] > (bd["ratio_med"] or 0)
            w(
                f"| brace ahead of every peer on {ep} | {a['ratio_med']:.2f}x vs {best} "
                f"{fmt(bd['ratio_med'], '.2f')}x | {verdict(ahead)} "
                f"| {fmt(c, '.2f')}x vs {cbest} {fmt(cbd['cpu_ratio_med'], '.2f')}x | "
                f"{verdict(c is not None and c > (cbd['cpu_ratio_med'] or 0))} |"
            )
        for other, ep, goal in [
            *((DB_PEER_TARGET[0], ep, DB_PEER_TARGET[1]) for ep in DB_ENDPOINTS),
            DB_RAW_TARGET,
        ]:
            pr = ds["vs"].get(("brace_db", other), {}).get(ep) if ds else None
            if not pr or pr["ratio_med"] is None:
                continue
            r_, c = pr["ratio_med"], pr["cpu_ratio_med"]
            ok = pr["checks"] == {"ok"}
            w(
                # three decimals: 1.296 shown as "1.30x" next to "MISSED" would puzzle
                f"| brace_db ≥ {goal:.1f}x {other} on {ep} | {r_:.3f}x | "
                f"{verdict(r_ >= goal and ok)} | {fmt(c, '.3f')}x | "
                f"{verdict(c is not None and c >= goal and ok)} |"
            )
        if rs and rs["ratio_med"] is not None:
            c = rs["cpu_ratio_med"]
            w(
                f"| 1,000 routes ≥ {ROUTES_TARGET:.2f}x 10 routes | {rs['ratio_med']:.3f}x | "
                f"{verdict(rs['ratio_med'] >= ROUTES_TARGET)} | {fmt(c, '.3f')}x | "
                f"{verdict(c is not None and c >= ROUTES_TARGET)} |"
            )
        w("")

    if not rows:
        return "\n".join(out)
    w("## Reference drift (raw app, start vs end of each round)\n")
    w("| endpoint | round | start req/s | end req/s | end/start |")
    w("|---|---:|---:|---:|---:|")
    by: dict[tuple[str, int], dict[str, float]] = {}
    for r in rows:
        if r["app"] == REF and r.get("rps"):
            by.setdefault((r["endpoint"], r["round"]), {})[r["phase"]] = r["rps"]
    for (ep, rnd), d in sorted(by.items()):
        s, e = d.get("start"), d.get("end")
        drift = f"{e / s:.3f}" if s and e else "—"
        w(f"| {ep} | {rnd} | {fmt(s, ',.0f')} | {fmt(e, ',.0f')} | {drift} |")
    w("")

    w("## Every measurement\n")
    w(
        "| round | app | phase | endpoint | req/s | ratio | p50 ms | p99 ms | cpu µs/req | busy "
        "| non-2xx | load | check |"
    )
    w("|---:|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        if r.get("error") or not r.get("rps"):
            w(
                f"| {r['round']} | {r['app']} | {r['phase']} | {r['endpoint']} | FAILED "
                f"|||||||| {r.get('error', '')} |"
            )
            continue
        ref = an["refs"].get((r["endpoint"], r["round"]))
        ratio = fmt(r["rps"] / statistics.mean(ref), ".3f") if ref and r["app"] != REF else ""
        w(
            f"| {r['round']} | {r['app']} | {r['phase']} | {r['endpoint']} | {r['rps']:,.0f} | "
            f"{ratio} | {fmt(r['p50_ms'], '.2f')} | {fmt(r['p99_ms'], '.2f')} | "
            f"{fmt(r.get('cpu_us_per_req'), '.1f')} | {fmt(r.get('server_busy'), '.2f')} | "
            f"{r['non2xx']} | "
            f"{r['loadavg']:.2f} | {r['check']} |"
        )
    w("")
    return "\n".join(out)


def verdict(ok: bool) -> str:
    return "met" if ok else "**MISSED**"


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    default_apps = ["brace", *PEERS] if (HERE / "apps" / "brace_app.py").exists() else PEERS
    ap.add_argument(
        "--apps",
        default=",".join(default_apps),
        help=f"comma list; the raw app is always added; also: {','.join(WSGI_PEERS)}",
    )
    ap.add_argument(
        "--endpoints",
        default="plaintext,json,users",
        help="plaintext,json,users[,items][,fortunes]",
    )
    ap.add_argument("--duration", type=int, default=5, help="measured seconds per endpoint")
    ap.add_argument("--warmup", type=int, default=2, help="discarded seconds before each")
    ap.add_argument("--connections", type=int, default=64)
    ap.add_argument("--rounds", type=int, default=3, help="alternating rounds; medians reported")
    ap.add_argument("--no-routes", action="store_true", help="skip the 10 vs 1,000 routes runs")
    ap.add_argument("--no-startup", action="store_true", help="skip import-time measurements")
    ap.add_argument("--startup-only", action="store_true", help="only measure import time")
    ap.add_argument("--import-runs", type=int, default=10)
    ap.add_argument("--out", default=None, help="results dir (default results/<timestamp>)")
    ap.add_argument("--table-only", default=None, help="re-render report.md from results.json")
    args = ap.parse_args()

    if args.table_only:
        print(make_report(json.loads(Path(args.table_only).read_text())))
        return
    if not Path(PY).exists():
        sys.exit(f"no venv at {VENV.parent}: see bench/README.md")

    apps = [a for a in args.apps.split(",") if a and a != REF]
    endpoints = [e for e in args.endpoints.split(",") if e]
    for a in apps:
        if a not in APPS:
            sys.exit(f"unknown app {a}; known: {', '.join(APPS)}")
    for e in endpoints:
        if e not in ENDPOINTS:
            sys.exit(f"unknown endpoint {e}; known: {', '.join(ENDPOINTS)}")
    main_apps = [a for a in apps if a not in ROUTE_APPS]
    routes = not args.no_routes and not args.startup_only

    outdir = (
        Path(args.out)
        if args.out
        else HERE / "results" / dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    )
    logdir = outdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    meta: dict[str, Any] = {
        "command": shlex.join([".venv/bin/python", "run.py", *sys.argv[1:]]),
        "apps": main_apps,
        "endpoints": endpoints,
        "duration": args.duration,
        "warmup": args.warmup,
        "connections": args.connections,
        "rounds": args.rounds,
        "env": environment(),
    }
    rows: list[dict[str, Any]] = []
    data = {"meta": meta, "rows": rows}

    def save() -> None:
        (outdir / "results.json").write_text(json.dumps(data, indent=1, default=list))

    if not args.no_startup:
        meta["startup"] = measure_startup([REF, *main_apps], args.import_runs)
        save()

    if not args.startup_only and any(ep in DB_ENDPOINTS for ep in endpoints):
        # The tables the database tests read and write (idempotent; see db_setup.py).
        setup = subprocess.run(
            [PY, str(HERE / "db_setup.py")], capture_output=True, text=True, env=py_env()
        )
        if setup.returncode != 0:
            sys.exit(setup.stderr.strip() or setup.stdout.strip() or "db_setup.py failed")
        meta["db_setup"] = setup.stdout.strip()
        print(f"db setup: {meta['db_setup']}", flush=True)
        save()

    if not args.startup_only:
        served = sum(serves(a, ep) for a in [REF, REF, *main_apps] for ep in endpoints)
        per_round = served + (2 if routes else 0)
        est = per_round * (args.duration + args.warmup + 1) * args.rounds
        print(f"plan: {args.rounds} round(s), ~{est / 60:.1f} min", flush=True)
        for rnd in range(1, args.rounds + 1):
            # Rotate the order every round so no app always runs right after the reference.
            k = (rnd - 1) % max(len(main_apps), 1)
            order = main_apps[k:] + main_apps[:k]
            rows += run_app(REF, endpoints, args, logdir, "start", rnd)
            save()
            for app in order:
                rows += run_app(app, endpoints, args, logdir, "main", rnd)
                save()
            if routes:
                for app in ROUTE_APPS if rnd % 2 else ROUTE_APPS[::-1]:
                    rows += run_app(app, ["route"], args, logdir, "main", rnd)
                    save()
            rows += run_app(REF, endpoints, args, logdir, "end", rnd)
            save()

    meta["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    save()
    report = make_report(data)
    (outdir / "report.md").write_text(report)
    print(report)
    print(f"results in {outdir}")


if __name__ == "__main__":
    main()
