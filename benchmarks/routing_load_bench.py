"""Load benchmark of the routing service: signed call-status callbacks at a fixed rate.

Starts the real service (``twilio-widget serve``, uvicorn, SQLite store in a temporary
directory) on 127.0.0.1, sends Twilio-signed ``/status/call`` callbacks open-loop at a fixed
rate over keep-alive connections, and prints throughput, latency percentiles (measured from
each request's *scheduled* send time, so queueing counts), errors, and lost events (rows in
the store versus callbacks acknowledged with 200).

Baseline (the issue's target): 500 requests/s, p99 under 50 ms, zero lost events.

    .venv/bin/python benchmarks/routing_load_bench.py [--rate 500] [--seconds 10]

Bounded: at most --seconds of sending (capped at 20) and --max-requests requests; loopback only.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

REPO = Path(__file__).resolve().parents[1]
PUBLIC_URL = "https://bench.example.com"
TOKEN = "be0c" + "0123456789abcdef" + "a17b0c3d5e6f"  # made up, shaped like an auth token (the service checks)
PATH = "/status/call"
STATUSES = ("initiated", "ringing", "in-progress", "completed")
TARGET_RATE = 500.0
TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_requests(count: int, port: int) -> list[bytes]:
    """Complete HTTP/1.1 requests, signed ahead of time (signing is not what we measure)."""
    validator = RequestValidator(TOKEN)
    requests = []
    for i in range(count):
        params = {
            "AccountSid": "AC" + "0" * 32,
            "CallSid": f"CA{i // len(STATUSES):032d}",
            "CallStatus": STATUSES[i % len(STATUSES)],
            "From": "+14155550100",
            "To": f"+1415555{i % 10000:04d}",
            "Direction": "outbound-dial",
            "CallDuration": "30" if STATUSES[i % len(STATUSES)] == "completed" else "",
            "Timestamp": "Thu, 26 Nov 2026 10:00:00 +0000",
        }
        body = urlencode(params).encode()
        signature = validator.compute_signature(PUBLIC_URL + PATH, params)
        head = (
            f"POST {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            "Content-Type: application/x-www-form-urlencoded\r\n"
            f"Content-Length: {len(body)}\r\nX-Twilio-Signature: {signature}\r\n"
            "User-Agent: TwilioProxy/1.1\r\n\r\n"
        ).encode()
        requests.append(head + body)
    return requests


class Connection:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer

    async def roundtrip(self, request: bytes) -> int:
        self.writer.write(request)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        if length:
            await self.reader.readexactly(length)
        return status


async def run_load(
    port: int, requests: list[bytes], rate: float, connections: int, timeout: float
) -> tuple[list[float], dict[str, int], float]:
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(Connection(*await asyncio.open_connection("127.0.0.1", port)))
    latencies: list[float] = []
    outcome = {"ok": 0, "http_errors": 0, "exceptions": 0}

    async def one(request: bytes, scheduled: float) -> None:
        conn = await pool.get()
        try:
            status = await asyncio.wait_for(conn.roundtrip(request), timeout)
        except (TimeoutError, OSError, ValueError, IndexError, asyncio.IncompleteReadError):
            outcome["exceptions"] += 1
            conn.writer.close()
            conn = Connection(*await asyncio.open_connection("127.0.0.1", port))
        else:
            latencies.append(time.perf_counter() - scheduled)
            outcome["ok" if status == 200 else "http_errors"] += 1
        finally:
            pool.put_nowait(conn)

    tasks = []
    start = time.perf_counter()
    for i, request in enumerate(requests):
        scheduled = start + i / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(request, scheduled)))
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not pool.empty():
        pool.get_nowait().writer.close()
    return latencies, outcome, elapsed


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc), NaN elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return float("nan")


def start_server(store: Path, port: int, durability: str) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "twilio_widget.cli",
            "serve",
            "--public-url",
            PUBLIC_URL,
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--store",
            str(store),
            "--config",
            "{}",
            "--log-level",
            "warning",
            "--durability",
            durability,
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"server exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("server did not start within 20 s")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="requests per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="sending time (max 20)")
    parser.add_argument("--max-requests", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=32, help="keep-alive connections")
    parser.add_argument("--timeout", type=float, default=5.0, help="per-request timeout (s)")
    parser.add_argument("--durability", choices=["FULL", "NORMAL"], default="FULL")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    seconds = min(max(args.seconds, 1.0), 20.0)
    count = max(1, min(args.max_requests, int(args.rate * seconds)))

    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        store = Path(tmp) / "bench.sqlite3"
        port = free_port()
        requests = build_requests(count, port)
        proc = start_server(store, port, args.durability)
        try:
            latencies, outcome, elapsed = asyncio.run(
                run_load(port, requests, args.rate, args.connections, args.timeout)
            )
            cpu_s = process_cpu_seconds(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
        with sqlite3.connect(store) as db:
            stored = db.execute("SELECT COUNT(*) FROM events WHERE kind='call'").fetchone()[0]

    ms = [x * 1000 for x in latencies]
    figures = {
        "requests": count,
        "rate_target": args.rate,
        "seconds": round(elapsed, 2),
        "throughput_rps": round(len(latencies) / elapsed, 1),
        "ok": outcome["ok"],
        "http_errors": outcome["http_errors"],
        "exceptions": outcome["exceptions"],
        "p50_ms": round(percentile(ms, 50), 2),
        "p90_ms": round(percentile(ms, 90), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2) if ms else None,
        "mean_ms": round(statistics.fmean(ms), 2) if ms else None,
        "stored_events": stored,
        "lost_events": outcome["ok"] - stored,
        "server_cpu_ms_per_request": round(cpu_s * 1000 / max(1, count), 3),
        "durability": args.durability,
        "connections": args.connections,
    }
    load = os.getloadavg() if hasattr(os, "getloadavg") else (float("nan"),) * 3
    figures["loadavg_1m"] = round(load[0], 2)
    print(
        f"routing load benchmark: {count} signed /status/call callbacks at {args.rate:g}/s "
        f"over {args.connections} keep-alive connections, SQLite synchronous={args.durability}"
    )
    print(f"  machine      {os.cpu_count()} CPUs, load average {load[0]:.2f} (1 min) at the end")
    print(
        f"  throughput   {figures['throughput_rps']:>9} req/s   "
        f"(baseline 500 req/s: x{figures['throughput_rps'] / TARGET_RATE:.2f})"
    )
    print(f"  latency p50  {figures['p50_ms']:>9} ms")
    print(f"  latency p90  {figures['p90_ms']:>9} ms")
    print(f"  latency p99  {figures['p99_ms']:>9} ms      (baseline 50 ms: x{figures['p99_ms'] / TARGET_P99_MS:.2f})")
    print(f"  latency max  {figures['max_ms']:>9} ms")
    print(f"  server CPU   {figures['server_cpu_ms_per_request']:>9} ms per request (start-up included)")
    print(f"  errors       {outcome['http_errors']:>9} non-200, {outcome['exceptions']} failed")
    print(
        f"  lost events  {figures['lost_events']:>9}         "
        f"({stored} stored / {outcome['ok']} acknowledged; baseline 0)"
    )
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(figures, indent=2))
    met = (
        figures["throughput_rps"] >= 0.95 * args.rate
        and figures["p99_ms"] < TARGET_P99_MS
        and figures["lost_events"] == 0
        and outcome["http_errors"] == outcome["exceptions"] == 0
    )
    print(f"  targets      {'met' if met else 'MISSED'}")
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
