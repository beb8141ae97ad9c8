#!/usr/bin/env python3
"""WebSocket fan-out load client: open N connections, hold them D seconds, time each broadcast.

    taskset -c 0 .venv/bin/python ws_load.py --port 8000 --n 5000 --duration 60

Every server under test sends {"seq": n, "sent": <time.time_ns()>} to every connection once a
second; for each message received during the hold this client records the fan-out latency,
receive time - "sent" (time.time_ns() on both sides, same machine). Printed as JSON on the last
line: connections established/failed, messages received during the hold, messages/s, latency
percentiles, and per broadcast the time until the last connection had it (fan-out rate =
deliveries / that time).

--client raw (default): a lean hand-written client on uvloop (asyncio.Protocol, HTTP/1.1 upgrade
by hand, unmasked server frames parsed in place, pings answered) so that the client's own cost
stays small next to the server's; --client websockets: the `websockets` library (asyncio), for
comparison. The hold starts when every connection has been attempted.
"""

import argparse
import asyncio
import base64
import json
import os
import resource
import statistics
import sys
import time
from typing import Any

import orjson

KEY = base64.b64encode(b"brace-bench-key!").decode()


class Stats:
    def __init__(self) -> None:
        self.hold_start = 0  # ns; 0 = not holding yet (messages before it are not counted)
        self.hold_end = 0
        self.latencies: list[int] = []
        self.per_seq: dict[int, list[int]] = {}  # seq -> [sent, count, last receive]
        self.before = 0  # received before the hold
        self.bad = 0
        self.closed_by_server = 0

    def record(self, payload: bytes, now: int) -> None:
        if not self.hold_start or now < self.hold_start or (self.hold_end and now > self.hold_end):
            self.before += 1
            return
        try:
            msg = orjson.loads(payload)
            seq, sent = msg["seq"], msg["sent"]
        except (ValueError, KeyError, TypeError):
            self.bad += 1
            return
        self.latencies.append(now - sent)
        s = self.per_seq.get(seq)
        if s is None:
            self.per_seq[seq] = [sent, 1, now]
        else:
            s[1] += 1
            if now > s[2]:
                s[2] = now


def masked(opcode: int, payload: bytes) -> bytes:
    """A client frame (clients must mask; a zero key leaves the payload as is)."""
    assert len(payload) < 126
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + b"\0\0\0\0" + payload


class RawWS(asyncio.Protocol):
    def __init__(self, stats: Stats, request: bytes, opened: asyncio.Future[bool]) -> None:
        self.stats = stats
        self.request = request
        self.opened = opened
        self.buf = bytearray()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None
        self.lost: asyncio.Future[None] = opened.get_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        now = time.time_ns()
        buf = self.buf
        buf += data
        if not self.upgraded:
            end = buf.find(b"\r\n\r\n")
            if end < 0:
                return
            if not buf.startswith(b"HTTP/1.1 101"):
                if not self.opened.done():
                    self.opened.set_result(False)
                self.transport.close()  # type: ignore[union-attr]
                return
            del buf[: end + 4]
            self.upgraded = True
            if not self.opened.done():
                self.opened.set_result(True)
        while len(buf) >= 2:
            b0, n = buf[0], buf[1] & 0x7F
            off = 2
            if n == 126:
                if len(buf) < 4:
                    return
                n, off = int.from_bytes(buf[2:4], "big"), 4
            elif n == 127:
                if len(buf) < 10:
                    return
                n, off = int.from_bytes(buf[2:10], "big"), 10
            if len(buf) < off + n:
                return
            payload = bytes(buf[off : off + n])
            del buf[: off + n]
            op = b0 & 0x0F
            if op in (1, 2):
                self.stats.record(payload, now)
            elif op == 9:  # ping -> pong
                self.transport.write(masked(0xA, payload))  # type: ignore[union-attr]
            elif op == 8:
                self.stats.closed_by_server += 1
                self.transport.close()  # type: ignore[union-attr]
                return

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.opened.done():
            self.opened.set_result(False)
        if not self.lost.done():
            self.lost.set_result(None)

    def close(self) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(masked(0x8, (1000).to_bytes(2, "big")))


async def open_raw(host: str, port: int, stats: Stats, timeout: float) -> RawWS | None:
    loop = asyncio.get_running_loop()
    request = (
        f"GET /ws HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()
    opened: asyncio.Future[bool] = loop.create_future()
    try:
        _, proto = await asyncio.wait_for(
            loop.create_connection(lambda: RawWS(stats, request, opened), host, port), timeout
        )
        if await asyncio.wait_for(opened, timeout):
            return proto
        proto.transport.close()  # type: ignore[union-attr]
    except (OSError, TimeoutError):
        pass
    return None


async def run_raw(args: argparse.Namespace, stats: Stats) -> dict[str, Any]:
    sem = asyncio.Semaphore(args.concurrency)

    async def one() -> RawWS | None:
        async with sem:
            return await open_raw(args.host, args.port, stats, args.timeout)

    t0 = time.monotonic()
    conns = [c for c in await asyncio.gather(*(one() for _ in range(args.n))) if c]
    connect_s = time.monotonic() - t0
    alive = await hold(args, stats, len(conns), connect_s)
    for c in conns:
        c.close()
    lost = [c.lost for c in conns]
    done, pending = await asyncio.wait(lost, timeout=5) if lost else (set(), set())
    for c in conns:
        if c.transport is not None:
            c.transport.abort()
    return {
        "established": len(conns),
        "connect_s": connect_s,
        "alive_at_end": alive(conns),
        "closed_cleanly": len(done),
        "close_pending": len(pending),
    }


async def run_websockets(args: argparse.Namespace, stats: Stats) -> dict[str, Any]:
    from websockets.asyncio.client import connect

    sem = asyncio.Semaphore(args.concurrency)
    url = f"ws://{args.host}:{args.port}/ws"

    async def reader(ws: Any) -> None:
        try:
            async for message in ws:
                stats.record(
                    message if isinstance(message, bytes) else message.encode(), time.time_ns()
                )
        except Exception:
            pass

    async def one() -> Any:
        async with sem:
            try:
                ws = await asyncio.wait_for(
                    connect(url, compression=None, max_queue=None, ping_interval=None),
                    args.timeout,
                )
            except Exception:
                return None
            ws.bench_task = asyncio.ensure_future(reader(ws))
            return ws

    t0 = time.monotonic()
    conns = [c for c in await asyncio.gather(*(one() for _ in range(args.n))) if c]
    connect_s = time.monotonic() - t0
    await hold(args, stats, len(conns), connect_s)
    await asyncio.wait([asyncio.ensure_future(c.close()) for c in conns], timeout=5)
    return {
        "established": len(conns),
        "connect_s": connect_s,
        "alive_at_end": sum(not c.bench_task.done() for c in conns),
    }


async def hold(args: argparse.Namespace, stats: Stats, established: int, connect_s: float) -> Any:
    print(f"connected {established}/{args.n} in {connect_s:.1f} s", file=sys.stderr, flush=True)
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    stats.hold_start = time.time_ns()
    print(f"event hold_start {stats.hold_start}", flush=True)
    await asyncio.sleep(args.duration)
    stats.hold_end = time.time_ns()
    print(f"event hold_end {stats.hold_end}", flush=True)
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    stats.client_cpu_s = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)

    def alive(conns: list[RawWS]) -> int:
        return sum(1 for c in conns if c.transport is not None and not c.transport.is_closing())

    return alive


def pct(values: list[int], q: float) -> float | None:
    if not values:
        return None
    return values[min(len(values) - 1, int(q * len(values)))] / 1e6  # ms


def summarize(args: argparse.Namespace, stats: Stats, conn: dict[str, Any]) -> dict[str, Any]:
    lat = sorted(stats.latencies)
    hold_s = (stats.hold_end - stats.hold_start) / 1e9
    # Whole broadcasts only: sent after the hold started and at least 1 s before it ended.
    full = {
        seq: s
        for seq, s in stats.per_seq.items()
        if s[0] >= stats.hold_start and s[0] <= stats.hold_end - 1_000_000_000
    }
    spans = [(s[2] - s[0]) / 1e6 for s in full.values()]  # ms until the last delivery
    rates = [s[1] / ((s[2] - s[0]) / 1e9) for s in full.values() if s[2] > s[0]]
    est = conn["established"]
    return {
        "client": args.client,
        "n": args.n,
        **conn,
        "failed": args.n - est,
        "hold_s": hold_s,
        "messages": len(lat),
        "messages_per_s": len(lat) / hold_s if hold_s else None,
        "broadcasts": len(stats.per_seq),
        "full_broadcasts": len(full),
        "delivered_share": (
            sum(s[1] for s in full.values()) / (est * len(full)) if full and est else None
        ),
        "p50_ms": pct(lat, 0.50),
        "p90_ms": pct(lat, 0.90),
        "p99_ms": pct(lat, 0.99),
        "max_ms": lat[-1] / 1e6 if lat else None,
        "min_ms": lat[0] / 1e6 if lat else None,
        "fanout_ms_median": statistics.median(spans) if spans else None,
        "fanout_rate_median": statistics.median(rates) if rates else None,
        "received_outside_hold": stats.before,
        "bad": stats.bad,
        "closed_by_server": stats.closed_by_server,
        # per broadcast of the hold: [seq, ms since the hold started, deliveries, ms to the last]
        "per_broadcast": [
            [seq, round((s[0] - stats.hold_start) / 1e6, 1), s[1], round((s[2] - s[0]) / 1e6, 1)]
            for seq, s in sorted(stats.per_seq.items())
        ],
        "client_cpu_s": getattr(stats, "client_cpu_s", None),
        "client_busy": getattr(stats, "client_cpu_s", 0) / hold_s if hold_s else None,
    }


def main() -> None:
    ap = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--n", type=int, default=5000, help="connections")
    ap.add_argument("--duration", type=float, default=60.0, help="seconds to hold them")
    ap.add_argument("--concurrency", type=int, default=100, help="handshakes in flight")
    ap.add_argument("--timeout", type=float, default=15.0, help="per handshake")
    ap.add_argument("--client", choices=("raw", "websockets"), default="raw")
    args = ap.parse_args()

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = args.n + 256
    if soft < want:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, hard), hard))
        if hard < want:
            print(f"warning: open-file limit {hard} < {want}", file=sys.stderr)

    import uvloop

    stats = Stats()
    runner = run_raw if args.client == "raw" else run_websockets
    conn = uvloop.run(runner(args, stats))
    print("result " + json.dumps(summarize(args, stats, conn)), flush=True)
    os._exit(0)  # do not wait for the garbage collector to tear down 5,000 objects


if __name__ == "__main__":
    main()
