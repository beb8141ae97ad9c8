#!/usr/bin/env python3
"""Where a WebSocket fan-out server's CPU goes: py-spy samples during the hold, bucketed.

Serves one ws_run.py server (pinned to SERVER_CPU), holds N connections with ws_load.py
(pinned to LOAD_CPU), records the server with `py-spy record --format raw` for a while in the
middle of the hold, then sorts each busy stack into the first bucket one of its frames matches
(leaf-most first) and lists the hottest leaf functions and brace's inclusive shares.

  .venv/bin/python ws_profile.py                          # brace, 5,000 connections, 20 s
  .venv/bin/python ws_profile.py --server starlette --seconds 15
  .venv/bin/python ws_profile.py --raw /tmp/ws_brace.txt  # re-sort a saved raw file

py-spy needs ptrace rights over the server (root, or kernel.yama.ptrace_scope = 0).
"""

import argparse
import collections
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from ws_run import LOAD_CPU, PY, VENV, env, free_port, server_cmd, stop, wait_ready  # noqa: E402

# Checked from the leaf up: the innermost matching frame names the bucket.
BUCKETS = [
    ("brace.channels (publish, deliver, Subscription queue)", r"brace/channels\.py"),
    ("brace.websockets (relay, send_json, race, receive)", r"brace/websockets\.py"),
    ("brace, other", r"brace/"),
    ("starlette", r"starlette/"),
    ("tornado", r"tornado/"),
    ("uvicorn websockets protocol (ASGI send/receive)", r"uvicorn/"),
    ("websockets library (framing, write)", r"websockets/"),
    ("asyncio (queues, tasks, futures, locks)", r"asyncio/"),
    ("msgspec / json", r"msgspec|json/"),
]


def bucket_of(stack: list[str]) -> str:
    for frame in reversed(stack):
        for name, pat in BUCKETS:
            if re.search(pat, frame):
                return name
    return "other (event loop, interpreter)"


def analyse(raw: str) -> str:
    buckets: collections.Counter[str] = collections.Counter()
    leaves: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack_txt, _, n = line.rpartition(" ")
        if not stack_txt or not n.isdigit():
            continue
        count = int(n)
        stack = stack_txt.split(";")
        total += count
        buckets[bucket_of(stack)] += count
        leaves[stack[-1]] += count
        for frame in set(stack):
            if "brace/" in frame:
                inclusive[frame] += count
    if not total:
        return "no samples"
    out = [f"{total} busy samples\n", "| bucket (innermost matching frame) | share |", "|---|---:|"]
    out += [f"| {k} | {v / total:.1%} |" for k, v in buckets.most_common()]
    out += ["", "| hottest leaf frames | share |", "|---|---:|"]
    out += [f"| `{k}` | {v / total:.1%} |" for k, v in leaves.most_common(15)]
    out += ["", "| brace frames, inclusive | share |", "|---|---:|"]
    out += [f"| `{k}` | {v / total:.1%} |" for k, v in inclusive.most_common(15)]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--server", default="brace")
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--seconds", type=int, default=20, help="py-spy recording time")
    ap.add_argument("--rate", type=int, default=250, help="py-spy samples per second")
    ap.add_argument("--raw", default=None, help="analyse a saved raw file instead")
    ap.add_argument("--save", default=None, help="keep py-spy's raw output here")
    args = ap.parse_args()
    if args.raw:
        print(analyse(Path(args.raw).read_text()))
        return
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, args.n + 1024), hard), hard))
    port = free_port()
    server = subprocess.Popen(
        server_cmd(args.server, port), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env=env(),
    )  # fmt: skip
    client = None
    save = Path(args.save or f"/tmp/ws_profile_{args.server}.txt")
    try:
        if not wait_ready(port, server):
            sys.exit("server did not start")
        hold = args.seconds + 15
        client = subprocess.Popen(
            ["taskset", "-c", LOAD_CPU, PY, str(HERE / "ws_load.py"), "--port", str(port),
             "--n", str(args.n), "--duration", str(hold)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env(),
        )  # fmt: skip
        assert client.stdout is not None
        for line in client.stdout:  # wait for every connection
            if line.startswith("event hold_start"):
                break
        time.sleep(3)
        subprocess.run(
            [str(VENV / "py-spy"), "record", "--format", "raw", "--pid", str(server.pid),
             "--duration", str(args.seconds), "--rate", str(args.rate), "--output", str(save)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        client.wait(timeout=hold + 60)
    finally:
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        stop(server)
    print(f"# {args.server}, {args.n} connections, raw samples in {save}\n")
    print(analyse(save.read_text()))


if __name__ == "__main__":
    main()
