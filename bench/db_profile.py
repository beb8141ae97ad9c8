#!/usr/bin/env python3
"""Where a database app's server CPU goes under load: py-spy samples, sorted into buckets.

Starts one app exactly as run.py does (uvicorn pinned to SERVER_CPU), warms it up, then
records it with `py-spy record --format raw` while wrk (pinned to LOAD_CPU) loads one endpoint,
and sorts every sampled stack into the first bucket whose pattern one of its frames matches
(pre-ping, BEGIN, COMMIT/ROLLBACK, the statement itself, the rest of SQLAlchemy, the
framework, the asyncpg protocol, uvicorn, the event loop). py-spy skips idle samples, so the
shares are of the worker's busy time; multiplied by run.py's CPU µs/req they give µs/req.

  .venv/bin/pip install py-spy                  # once
  .venv/bin/python db_profile.py                # brace_db, brace_db_noping, fastapi_db,
                                                # brace_asyncpg on /db
  .venv/bin/python db_profile.py --apps brace_db,fastapi_db --endpoint queries
  .venv/bin/python db_profile.py --raw /tmp/x.txt   # re-sort a saved py-spy raw file

py-spy needs ptrace rights over the worker (root, or kernel.yama.ptrace_scope = 0).
"""

from __future__ import annotations

import argparse
import collections
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import (  # noqa: E402  (after the path is set)
    APPS,
    ENDPOINTS,
    VENV,
    free_port,
    py_env,
    server_cmd,
    stop,
    wait_ready,
    worker_pid,
    wrk_cmd,
)

# First match wins, in this order: a sample inside the pre-ping counts as pre-ping even though
# SQLAlchemy's frames are on the stack too.
BUCKETS = [
    ("pre-ping: BEGIN; SELECT ';'; ROLLBACK (SQLAlchemy's asyncpg ping)", r"_async_ping|do_ping"),
    ("BEGIN (SQLAlchemy asyncpg _start_transaction)", r"_start_transaction"),
    (
        "COMMIT / ROLLBACK",
        r"Transaction\.__commit|Transaction\.__rollback|_call_and_discard"
        r"|Transaction\.commit|Transaction\.rollback",
    ),
    ("the statement (SQLAlchemy cursor -> asyncpg prepared execute)", r"_prepare_and_execute"),
    (
        "the statement (raw asyncpg fetchrow / fetch / executemany, pool)",
        r"Connection\.(fetchrow|fetch|executemany) \(asyncpg|asyncpg/pool",
    ),
    ("SQLAlchemy, the rest (ORM get/loading, session, pool, caches, greenlets)", r"sqlalchemy"),
    ("Jinja2 render", r"jinja2"),
    ("brace (routing, handler plan, dependencies, response)", r"/brace/|apps/brace_"),
    ("FastAPI / Starlette / pydantic", r"fastapi|starlette|pydantic|apps/fastapi_"),
    ("asyncpg protocol: reading results (event-loop callbacks)", r"asyncpg"),
    ("uvicorn (HTTP parsing, writing)", r"uvicorn"),
]
_COMPILED = [(name, re.compile(rx)) for name, rx in BUCKETS]
OTHER = "event loop, other"


def sort_samples(raw: str) -> tuple[int, collections.Counter[str]]:
    total = 0
    buckets: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        if not line.strip():
            continue
        stack, count = line.rsplit(" ", 1)
        n = int(count)
        total += n
        frames = stack.split(";")
        for name, rx in _COMPILED:
            if any(rx.search(f) for f in frames):
                buckets[name] += n
                break
        else:
            buckets[OTHER] += n
    return total, buckets


def record(app: str, ep: str, seconds: int, rate: int) -> tuple[str, float | None]:
    """Serve the app, load it, sample it; returns py-spy's raw output and wrk's req/s."""
    spy = VENV / "py-spy"
    if not spy.exists():
        sys.exit(f"no {spy}: .venv/bin/pip install py-spy")
    port = free_port()
    env = {**py_env(), **APPS[app].get("env", {})}
    url = f"http://127.0.0.1:{port}{ENDPOINTS[ep]['path']}"
    proc = subprocess.Popen(
        server_cmd(app, port),
        cwd=HERE,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        if not wait_ready(port, proc, app):
            sys.exit(f"{app} did not start")
        time.sleep(0.5)
        subprocess.run(wrk_cmd(url, 3, 64), capture_output=True)  # warm-up
        with tempfile.NamedTemporaryFile("r", suffix=".txt") as out:
            rec = subprocess.Popen(
                [
                    str(spy), "record", "--pid", str(worker_pid(proc.pid)),
                    "--duration", str(seconds), "--rate", str(rate), "--format", "raw",
                    "--nonblocking", "-o", out.name,
                ],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )  # fmt: skip
            load = subprocess.run(wrk_cmd(url, seconds, 64), capture_output=True, text=True)
            rec.wait(timeout=seconds + 30)
            raw = Path(out.name).read_text()
    finally:
        stop(proc)
    m = re.search(r"Requests/sec:\s+([\d.]+)", load.stdout)
    return raw, float(m.group(1)) if m else None


def report(title: str, raw: str, rps: float | None) -> None:
    total, buckets = sort_samples(raw)
    head = f"### {title}: {total} busy samples" + (f", {rps:,.0f} req/s" if rps else "")
    print(head + "\n")
    print("| share of busy samples | where |")
    print("|---:|---|")
    for name in [n for n, _ in BUCKETS] + [OTHER]:
        if buckets[name]:
            print(f"| {100 * buckets[name] / total:.1f}% | {name} |")
    print(flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--apps", default="brace_db,brace_db_noping,fastapi_db,brace_asyncpg")
    ap.add_argument("--endpoint", default="db", choices=["db", "queries", "fortunes-db", "updates"])
    ap.add_argument("--seconds", type=int, default=12)
    ap.add_argument("--rate", type=int, default=250, help="samples per second")
    ap.add_argument("--raw", default=None, help="only sort this saved py-spy raw file")
    args = ap.parse_args()
    if args.raw:
        report(args.raw, Path(args.raw).read_text(), None)
        return
    for app in args.apps.split(","):
        raw, rps = record(app, args.endpoint, args.seconds, args.rate)
        report(f"{app} GET {ENDPOINTS[args.endpoint]['path']}", raw, rps)


if __name__ == "__main__":
    main()
