#!/usr/bin/env python3
"""What a rate limit costs per request, in process, next to its floor: the `limits` library's
own `hit()` on memory storage, timed in the same run.

  taskset -c 1 .venv/bin/python ratelimit_cost.py
  taskset -c 1 .venv/bin/python ratelimit_cost.py --n 20000 --repeats 9

Rows: the limiter's `hit()` alone for each strategy (the floor brace builds on), then
`GET /json` through brace_app and through brace_limited_app (the same routes behind a
fixed-window memory limit no run reaches), as µs per ASGI call, medians over the repeats.
"""

import argparse
import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from limits import parse  # noqa: E402
from limits.aio.storage import MemoryStorage  # noqa: E402
from limits.aio.strategies import (  # noqa: E402
    FixedWindowRateLimiter,
    MovingWindowRateLimiter,
    SlidingWindowCounterRateLimiter,
)
from micro import lifespan, scope_for, shutdown  # noqa: E402


async def per_call(fn: Callable[[], Awaitable[Any]], n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        await fn()
    return (time.perf_counter() - start) / n * 1e6


def hit_of(strategy: Any) -> Callable[[], Awaitable[Any]]:
    limiter = strategy(MemoryStorage())
    item = parse("1000000000/minute")

    async def hit() -> Any:
        return await limiter.hit(item, "route", "127.0.0.1")

    return hit


def asgi_of(app: Any) -> Callable[[], Awaitable[None]]:
    base = scope_for("/json", b"")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    async def call() -> None:
        await app(dict(base), receive, send)

    return call


async def main(n: int, repeats: int) -> None:
    from apps import brace_app, brace_limited_app

    running = [await lifespan(app) for app in (brace_app.app, brace_limited_app.app)]
    rows: dict[str, Callable[[], Awaitable[Any]]] = {
        "limits hit(), fixed window": hit_of(FixedWindowRateLimiter),
        "limits hit(), sliding window": hit_of(SlidingWindowCounterRateLimiter),
        "limits hit(), moving window (one key, growing log)": hit_of(MovingWindowRateLimiter),
        "GET /json, brace": asgi_of(brace_app.app),
        "GET /json, brace + fixed-window limit": asgi_of(brace_limited_app.app),
    }
    seen: dict[str, list[float]] = {name: [] for name in rows}
    for _ in range(repeats):
        for name, fn in rows.items():
            seen[name].append(await per_call(fn, n))
    print("| what | µs per call |")
    print("|---|---:|")
    for name, values in seen.items():
        print(f"| {name} | {statistics.median(values):.2f} |")
    for inbox, task in running:
        await shutdown(inbox, task)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10000)
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    asyncio.run(main(args.n, args.repeats))
