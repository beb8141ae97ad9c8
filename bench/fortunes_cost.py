#!/usr/bin/env python3
"""Where a brace `GET /fortunes` spends its time, step by step, against plain Jinja2 (in-process).

Each step is timed in a loop (`time.process_time`, so time the scheduler gives to other jobs is
not counted), the steps are interleaved and repeated, and the 10th percentile of the repeats is
shown: on a busy machine the fastest repeats are the ones least disturbed.

  taskset -c 1 .venv/bin/python fortunes_cost.py
  taskset -c 1 .venv/bin/python fortunes_cost.py --n 500 --repeats 60
"""

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from apps import brace_app, raw_asgi_app, starlette_app  # noqa: E402
from apps._fortunes import TEMPLATE, TEMPLATES, fortunes  # noqa: E402
from micro import lifespan, scope_for  # noqa: E402

from brace import HTMLResponse, Request  # noqa: E402


def steps() -> dict[str, Callable[[], Any]]:
    templates = brace_app.templates
    scope = scope_for("/fortunes", b"")

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    request = Request(scope, receive)
    raw_template = raw_asgi_app.FORTUNES_TEMPLATE
    brace_template = templates.env.get_template(TEMPLATE)
    # brace's environment but with autoescape=True instead of select_autoescape(...), and
    # without brace's three globals: what each costs per render.
    plain_env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True)
    plain_env.globals.update(templates.env.globals)
    escape_true = plain_env.get_template(TEMPLATE)
    select_env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=templates.env.autoescape
    )
    no_globals = select_env.get_template(TEMPLATE)
    text = raw_template.render(fortunes=fortunes())
    return {
        "fortunes() [shared by all]": fortunes,
        "raw: template.render(fortunes=...)": lambda: raw_template.render(fortunes=fortunes()),
        "jinja: autoescape=True + brace globals": lambda: escape_true.render(fortunes=fortunes()),
        "jinja: select_autoescape, no brace globals": lambda: no_globals.render(
            fortunes=fortunes()
        ),
        "brace env: template.render(values)": lambda: brace_template.render(
            {"request": request, "fortunes": fortunes()}
        ),
        "brace env.get_template(name)": lambda: templates.env.get_template(TEMPLATE),
        "brace Templates._context(...)": lambda: templates._context(
            request, {"fortunes": fortunes()}
        ),
        "brace Templates.render_string(...)": lambda: templates.render_string(
            request, TEMPLATE, {"fortunes": fortunes()}
        ),
        "brace Templates.render(...)": lambda: templates.render(
            request, TEMPLATE, {"fortunes": fortunes()}
        ),
        "text.encode() [raw's response body]": text.encode,
        "brace HTMLResponse(text)": lambda: HTMLResponse(text),
        "brace Request(scope, receive)": lambda: Request(dict(scope), receive),
    }


async def asgi_steps() -> dict[str, Callable[[], Any]]:
    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    out = {}
    for name, app in [
        ("raw", raw_asgi_app.app),
        ("brace", brace_app.app),
        ("starlette", starlette_app.app),
    ]:
        await lifespan(app)
        for path in ("/plaintext", "/fortunes"):
            scope = scope_for(path, b"")

            def call(app: Any = app, scope: dict[str, Any] = scope) -> Any:
                return app(dict(scope), receive, send)

            out[f"ASGI call {name} {path}"] = call
    return out


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=300, help="calls per repeat")
    ap.add_argument("--repeats", type=int, default=40, help="interleaved repeats")
    args = ap.parse_args()
    sync = steps()
    coros = await asgi_steps()
    times: dict[str, list[float]] = {k: [] for k in [*sync, *coros]}
    for _ in range(args.repeats):
        for name, fn in sync.items():
            t0 = time.process_time()
            for _ in range(args.n):
                fn()
            times[name].append((time.process_time() - t0) / args.n * 1e6)
        for name, fn in coros.items():
            t0 = time.process_time()
            for _ in range(args.n):
                await fn()
            times[name].append((time.process_time() - t0) / args.n * 1e6)
    print(f"| step | µs (p10 of {args.repeats} x {args.n}) | median |")
    print("|---|---:|---:|")
    for name, xs in times.items():
        xs.sort()
        print(f"| {name} | {xs[len(xs) // 10]:.2f} | {xs[len(xs) // 2]:.2f} |")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())
