#!/usr/bin/env python3
"""WebSocket fan-out benchmark (issue 7): brace vs Starlette vs Tornado, one worker each.

Each server holds N WebSocket connections (default 5,000) for D seconds (default 60) and
broadcasts {"seq": n, "sent": time.time_ns()} to all of them once a second; ws_load.py (pinned
to LOAD_CPU, default 0) opens the connections, measures the fan-out latency of every message
and counts them. Servers are pinned to SERVER_CPU (default 1), everything on 127.0.0.1:

  brace, brace_set, starlette, raw   uvicorn --loop uvloop --http httptools --ws websockets-sansio
  tornado                            apps/ws_tornado_app.py (Tornado's own HTTPServer, asyncio loop)

brace is the idiomatic Channels("memory://") + ws.relaying version; brace_set the plain set of
connections (like Starlette's and Tornado's); raw a bare ASGI app awaiting uvicorn's `send` for
each connection, the floor under every framework on this server. Servers run one after
another, order reversed every round; the server's RSS (VmRSS) is read before any connection
and every 0.5 s during the hold, and its CPU time over the hold. Writes
results/<stamp>/ws.json and ws.md.

  .venv/bin/python ws_run.py                                  # 2 rounds, 5,000 x 60 s
  .venv/bin/python ws_run.py --n 500 --duration 10 --rounds 1 # smoke
  .venv/bin/python ws_run.py --table-only results/<stamp>/ws.json
"""

import argparse
import datetime as dt
import json
import os
import resource
import shlex
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
VENV = HERE / ".venv" / "bin"
PY = str(VENV / "python")
SERVER_CPU = os.environ.get("SERVER_CPU", "1")
LOAD_CPU = os.environ.get("LOAD_CPU", "0")
CLK = os.sysconf("SC_CLK_TCK")

# BENCH_WS picks uvicorn's WebSocket implementation for every uvicorn-served app alike: by
# default the sans-I/O one, which uvicorn's `--ws auto` and `brace run` choose;
# BENCH_WS=websockets for the legacy one (deprecated by uvicorn and the websockets library).
UVICORN_WS = [
    *("--loop", "uvloop", "--http", "httptools"),
    *("--ws", os.environ.get("BENCH_WS", "websockets-sansio")),
]
SERVERS: dict[str, dict[str, Any]] = {
    "brace": {"uvicorn": "apps.ws_brace_app:app"},
    "brace_set": {"uvicorn": "apps.ws_brace_set_app:app"},
    "starlette": {"uvicorn": "apps.ws_starlette_app:app"},
    "tornado": {"script": "apps/ws_tornado_app.py"},
    "raw": {"uvicorn": "apps.ws_raw_app:app"},
}
# Issue 7 targets: brace fan-out throughput >= 1.2x Starlette and >= 1.0x Tornado;
# memory per connection no worse than Starlette's.
TARGETS = {"starlette": 1.2, "tornado": 1.0}


def server_cmd(name: str, port: int) -> list[str]:
    spec = SERVERS[name]
    if "uvicorn" in spec:
        return [
            "taskset",
            "-c",
            SERVER_CPU,
            str(VENV / "uvicorn"),
            spec["uvicorn"],
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            *UVICORN_WS,
            "--workers",
            "1",
            "--no-access-log",
            "--log-level",
            "warning",
            "--timeout-graceful-shutdown",
            "3",
        ]
    return ["taskset", "-c", SERVER_CPU, PY, str(HERE / spec["script"]), "--port", str(port)]


def env() -> dict[str, str]:
    e = dict(os.environ, PYTHONPATH=str(HERE), PYTHONPYCACHEPREFIX=str(VENV.parent / "pycache"))
    e.pop("PYTHONDONTWRITEBYTECODE", None)
    return e


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rss_kib(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def cpu_s(pid: int) -> float | None:
    try:
        f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(f[11]) + int(f[12])) / CLK
    except (OSError, IndexError):
        return None


def wait_ready(port: int, proc: subprocess.Popen[bytes], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                if r.status == 200:
                    return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful stop), then SIGKILL: only the process we started."""
    if proc.poll() is not None:
        return
    try:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=8)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def measure(name: str, args: argparse.Namespace, logdir: Path, rnd: int) -> dict[str, Any]:
    row: dict[str, Any] = {"server": name, "round": rnd, "loadavg_before": os.getloadavg()[0]}
    port = free_port()
    log = open(logdir / f"{name}-r{rnd}.log", "wb")
    proc = subprocess.Popen(server_cmd(name, port), stdout=log, stderr=subprocess.STDOUT, env=env())
    client: subprocess.Popen[str] | None = None
    samples: list[tuple[int, int | None, float | None]] = []  # (time_ns, rss KiB, cpu s)
    halt = threading.Event()
    try:
        if not wait_ready(port, proc):
            row["error"] = "server did not start"
            return row
        time.sleep(1.5)
        row["rss_idle_kib"] = rss_kib(proc.pid)

        def sample() -> None:
            while not halt.is_set():
                samples.append((time.time_ns(), rss_kib(proc.pid), cpu_s(proc.pid)))
                halt.wait(0.5)

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()
        client = subprocess.Popen(
            [
                "taskset",
                "-c",
                LOAD_CPU,
                PY,
                str(HERE / "ws_load.py"),
                "--port",
                str(port),
                "--n",
                str(args.n),
                "--duration",
                str(args.duration),
                "--client",
                args.client,
                "--concurrency",
                str(args.concurrency),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env(),
        )
        try:
            out, err = client.communicate(timeout=args.duration + 120)
        except subprocess.TimeoutExpired:
            client.kill()
            out, err = client.communicate()
            row["error"] = "client timed out"
        halt.set()
        sampler.join()
        row["client_stderr"] = err.strip()[-500:]
        for line in out.splitlines():
            if line.startswith("result "):
                row.update(json.loads(line[7:]))
            elif line.startswith("event hold_start "):
                row["hold_start_ns"] = int(line.split()[2])
            elif line.startswith("event hold_end "):
                row["hold_end_ns"] = int(line.split()[2])
        if "hold_start_ns" in row and "hold_end_ns" in row:
            # RSS while every connection is held: skip the first 2 s of the hold.
            t0, t1 = row["hold_start_ns"], row["hold_end_ns"]
            held = [r for t, r, _ in samples if t0 + 2e9 <= t <= t1 and r]
            row["rss_held_kib"] = statistics.median(held) if held else None
            row["rss_held_max_kib"] = max(held) if held else None
            inside = [(t, c) for t, _, c in samples if t0 <= t <= t1 and c is not None]
            if len(inside) >= 2:
                (ta, ca), (tb, cb) = inside[0], inside[-1]
                row["server_cpu_s"] = cb - ca
                row["server_busy"] = (cb - ca) / ((tb - ta) / 1e9)
            est = row.get("established") or 0
            if row.get("rss_held_kib") and row.get("rss_idle_kib") and est:
                row["kib_per_conn"] = (row["rss_held_kib"] - row["rss_idle_kib"]) / est
            if row.get("server_cpu_s") and row.get("messages"):
                span = (inside[-1][0] - inside[0][0]) / 1e9
                row["server_cpu_us_per_msg"] = (
                    row["server_cpu_s"] / (row["messages"] * span / row["hold_s"]) * 1e6
                )
        row["loadavg_after"] = os.getloadavg()[0]
        return row
    finally:
        halt.set()
        if client is not None and client.poll() is None:
            client.kill()
            client.wait()
        stop(proc)
        log.close()


def fmt(v: Any, spec: str) -> str:
    return "—" if v is None else format(v, spec)


def med(rows: list[dict[str, Any]], key: str) -> float | None:
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def report(data: dict[str, Any]) -> str:
    meta, rows = data["meta"], data["rows"]
    out: list[str] = []
    w = out.append
    w(f"# WebSocket fan-out, {meta['started']}\n")
    w(f"`{meta['command']}`  ")
    w(
        f"{meta['n']} connections held {meta['duration']} s per server, a broadcast per second, "
        f"{meta['rounds']} round(s), client `{meta['client']}`; servers on CPU {SERVER_CPU}, "
        f"client on CPU {LOAD_CPU}. {meta['env']}\n"
    )
    names = [s for s in meta["servers"] if any(r["server"] == s for r in rows)]
    by = {s: [r for r in rows if r["server"] == s and not r.get("error")] for s in names}
    w(
        "| server | established / failed | msgs/s delivered | delivered | p50 ms | p99 ms "
        "| fan-out ms (median) | fan-out rate msg/s | server CPU µs/msg | busy "
        "| RSS idle MiB | RSS held MiB | KiB/conn |"
    )
    w("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    agg: dict[str, dict[str, Any]] = {}
    for s in names:
        rs = by[s]
        a = {
            k: med(rs, k)
            for k in (
                "established",
                "failed",
                "messages_per_s",
                "delivered_share",
                "p50_ms",
                "p99_ms",
                "fanout_ms_median",
                "fanout_rate_median",
                "server_cpu_us_per_msg",
                "server_busy",
                "rss_idle_kib",
                "rss_held_kib",
                "kib_per_conn",
            )
        }
        agg[s] = a
        w(
            f"| {s} | {fmt(a['established'], ',.0f')} / {fmt(a['failed'], ',.0f')} | "
            f"{fmt(a['messages_per_s'], ',.0f')} | {fmt(a['delivered_share'], '.1%')} | "
            f"{fmt(a['p50_ms'], '.1f')} | {fmt(a['p99_ms'], '.1f')} | "
            f"{fmt(a['fanout_ms_median'], '.1f')} | {fmt(a['fanout_rate_median'], ',.0f')} | "
            f"{fmt(a['server_cpu_us_per_msg'], '.1f')} | {fmt(a['server_busy'], '.2f')} | "
            f"{fmt(a['rss_idle_kib'] and a['rss_idle_kib'] / 1024, '.1f')} | "
            f"{fmt(a['rss_held_kib'] and a['rss_held_kib'] / 1024, '.1f')} | "
            f"{fmt(a['kib_per_conn'], '.1f')} |"
        )
    w("")
    w("Medians over rounds. fan-out rate = messages of one broadcast ÷ (last receive - sent), ")
    w("median over the broadcasts of the hold; msgs/s delivered is capped by the offered load ")
    w("(connections x 1/s).\n")

    # Ratios per round (same round = same machine state), median over rounds.
    def per_round(a: str, b: str, key: str, invert: bool = False) -> list[float]:
        vals = []
        for rnd in sorted({r["round"] for r in rows}):
            x = next((r.get(key) for r in by.get(a, []) if r["round"] == rnd), None)
            y = next((r.get(key) for r in by.get(b, []) if r["round"] == rnd), None)
            if x and y:
                vals.append(y / x if invert else x / y)
        return vals

    def rtxt(vals: list[float]) -> str:
        if not vals:
            return "—"
        m = statistics.median(vals)
        return f"{m:.2f}x" + (f" [{min(vals):.2f}-{max(vals):.2f}]" if len(vals) > 1 else "")

    w(
        "| ratio (per round, median [min-max]) | fan-out rate | msgs/s delivered | "
        "CPU/msg (peer ÷ brace) | p99 (peer ÷ brace) | memory/conn (brace ÷ peer) |"
    )
    w("|---|---:|---:|---:|---:|---:|")
    ratios: dict[str, dict[str, list[float]]] = {}
    for b in [x for x in ("brace", "brace_set", "starlette") if x in by]:
        peers = ("starlette", "tornado", "brace_set", "raw") if b != "starlette" else ("raw",)
        for p in [x for x in peers if x in by and x != b]:
            r = {
                "rate": per_round(b, p, "fanout_rate_median"),
                "mps": per_round(b, p, "messages_per_s"),
                "cpu": per_round(b, p, "server_cpu_us_per_msg", invert=True),
                "p99": per_round(b, p, "p99_ms", invert=True),
                "mem": per_round(b, p, "kib_per_conn"),
            }
            ratios[f"{b}/{p}"] = r
            w(
                f"| {b} / {p} | {rtxt(r['rate'])} | {rtxt(r['mps'])} | {rtxt(r['cpu'])} | "
                f"{rtxt(r['p99'])} | {rtxt(r['mem'])} |"
            )
    w("")
    w("| target (brace = Channels version) | measured | verdict |")
    w("|---|---:|---|")
    for b in [x for x in ("brace", "brace_set") if x in by]:
        for peer, goal in TARGETS.items():
            r = ratios.get(f"{b}/{peer}", {}).get("rate")
            if r:
                m = statistics.median(r)
                w(
                    f"| {b} fan-out rate ≥ {goal:.1f}x {peer} | {m:.2f}x | "
                    f"{'met' if m >= goal else '**MISSED**'} |"
                )
        r = ratios.get(f"{b}/starlette", {}).get("mem")
        if r:
            m = statistics.median(r)
            w(f"| {b} memory/conn ≤ starlette | {m:.2f}x | {'met' if m <= 1.0 else '**MISSED**'} |")
    w("")
    w("## Every run\n")
    w(
        "| round | server | est. | msgs/s | p50 ms | p99 ms | max ms | fan-out rate | CPU µs/msg "
        "| busy | client busy | KiB/conn | load | note |"
    )
    w("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        w(
            f"| {r['round']} | {r['server']} | {fmt(r.get('established'), ',')} | "
            f"{fmt(r.get('messages_per_s'), ',.0f')} | {fmt(r.get('p50_ms'), '.1f')} | "
            f"{fmt(r.get('p99_ms'), '.1f')} | {fmt(r.get('max_ms'), '.1f')} | "
            f"{fmt(r.get('fanout_rate_median'), ',.0f')} | "
            f"{fmt(r.get('server_cpu_us_per_msg'), '.1f')} | {fmt(r.get('server_busy'), '.2f')} | "
            f"{fmt(r.get('client_busy'), '.2f')} | {fmt(r.get('kib_per_conn'), '.1f')} | "
            f"{r['loadavg_before']:.2f} | {r.get('error', '')} |"
        )
    w("")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--servers", default=",".join(SERVERS))
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--duration", type=int, default=60)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--client", choices=("raw", "websockets"), default="raw")
    ap.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    ap.add_argument("--out", default=None)
    ap.add_argument("--table-only", default=None)
    args = ap.parse_args()
    if args.table_only:
        print(report(json.loads(Path(args.table_only).read_text())))
        return
    servers = [s for s in args.servers.split(",") if s]
    for s in servers:
        if s not in SERVERS:
            sys.exit(f"unknown server {s}; known: {', '.join(SERVERS)}")
    # Servers inherit the limit: each holds N sockets.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(max(soft, args.n + 1024), hard), hard))

    started = dt.datetime.now()
    outdir = Path(args.out) if args.out else HERE / "results" / started.strftime("%Y%m%d-%H%M%S")
    logdir = outdir / "logs"
    logdir.mkdir(parents=True, exist_ok=True)
    import platform

    meta = {
        "command": shlex.join([".venv/bin/python", "ws_run.py", *sys.argv[1:]]),
        "started": started.astimezone().isoformat(timespec="seconds"),
        "servers": servers,
        "n": args.n,
        "duration": args.duration,
        "rounds": args.rounds,
        "client": args.client,
        "env": f"Python {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average at start {os.getloadavg()[0]:.2f}",
    }
    rows: list[dict[str, Any]] = []
    data = {"meta": meta, "rows": rows}
    minutes = args.rounds * len(servers) * (args.duration + args.n / 500 + 10) / 60
    print(
        f"plan: {args.rounds} x {len(servers)} runs, ~{minutes:.1f} min",
        flush=True,
    )
    for rnd in range(1, args.rounds + 1):
        for s in servers if rnd % 2 else servers[::-1]:
            row = measure(s, args, logdir, rnd)
            rows.append(row)
            (outdir / "ws.json").write_text(json.dumps(data, indent=1))
            print(
                f"round {rnd} {s}: est {row.get('established')} msgs/s "
                f"{fmt(row.get('messages_per_s'), ',.0f')} p50 {fmt(row.get('p50_ms'), '.1f')} "
                f"p99 {fmt(row.get('p99_ms'), '.1f')} ms rate "
                f"{fmt(row.get('fanout_rate_median'), ',.0f')} KiB/conn "
                f"{fmt(row.get('kib_per_conn'), '.1f')} {row.get('error', '')}",
                flush=True,
            )
    meta["finished"] = dt.datetime.now().astimezone().isoformat(timespec="seconds")
    (outdir / "ws.json").write_text(json.dumps(data, indent=1))
    md = report(data)
    (outdir / "ws.md").write_text(md)
    print(md)
    print(f"results in {outdir}")


if __name__ == "__main__":
    main()
