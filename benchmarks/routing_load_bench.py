"""Load and fault benchmark of the routing service: signed call-status callbacks on loopback.

Starts the real service (``twilio-widget serve``: uvicorn, the store) on 127.0.0.1 and sends
Twilio-signed ``/status/call`` callbacks over keep-alive connections, each a distinct
CallSid/status (so each must become one event). Two loads: open loop at a fixed rate
(latency measured from each request's *scheduled* send time, so queueing counts) and closed
loop (every connection sends its next request as soon as the last one is answered: the
saturation throughput). Lost events are callbacks acknowledged with 200 whose event is not
in the store afterwards.

Scenarios and their targets (issue 15):

- SQLite, one worker: CPU per request of the service at most 0.6 ms; the fixed-rate run
  (500/s, p99 under 50 ms, 0 lost) beside the saturation throughput.
- PostgreSQL (a throwaway server from the machine's packages, fsync on, reached over its unix
  socket; ``--pg-over tcp`` for loopback), 1, 2 and 4 workers:
  saturation throughput of each; four workers at a fixed 2,000/s: p99 under 50 ms, 0 lost;
  CPU per request of the service, the database and this load generator, all on one machine.
- Faults, four workers on PostgreSQL: ``kill -9`` of a worker mid-load, then a PostgreSQL
  restart mid-load: every request answered 200 is stored; the service answers 503 (Twilio
  retries those) while the database is away.

    .venv/bin/python benchmarks/routing_load_bench.py [--quick] [--check] [--only sqlite,postgresql,faults]

The load generator opens its 128 connections (CONNECTIONS: enough that no request waits in the
generator for a free one before the service has had its 50 ms) one after the other, 10 ms apart,
as clients arriving over time would, so that uvicorn's workers share them (a burst of
connections is taken by whichever worker is awake first); each multi-worker run prints each
worker's part of the service's CPU. PostgreSQL's WAL segments are recycled before each run, as
a server in service has them (recycle_wal).

Bounded: each run sends for at most --seconds (capped at 20) and --max-requests requests.
The machine's load average is printed beside the figures: on a shared machine they are
what was left over, and a run on a quiet one is the same command.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import psutil
from twilio.request_validator import RequestValidator

from twilio_widget.vocabulary import CALL_STATUS_ALIASES

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))
from throwaway_postgres import ThrowawayPostgres, unavailable_reason  # noqa: E402

PUBLIC_URL = "https://bench.example.com"
TOKEN = "be0c" + "0123456789abcdef" + "a17b0c3d5e6f"  # made up, shaped like an auth token (the service checks)
PATH = "/status/call"
STATUSES = ("initiated", "ringing", "in-progress", "completed")
TARGET_RATE = 500.0
TARGET_P99_MS = 50.0
TARGET_SQLITE_CPU_MS = 0.6
TARGET_PG_RATE = 2000.0
PG_WORKERS = (1, 2, 4)
#: Seconds between the load generator's connections as it opens them.
CONNECT_SPACING = 0.01
#: Connections the generator keeps open. Twilio's callbacks do not wait for each other, so a
#: request must never wait for a free connection before the service has had the time it is allowed:
#: at least rate x target p99 of them (2,000/s x 50 ms = 100). With 32, every request answered in
#: more than 16 ms at 2,000/s held the next one back in the generator, where the service could not
#: see it, let alone commit it with the others.
CONNECTIONS = 128
#: WAL segments a fresh PostgreSQL is made to write, then recycle, before the runs (see recycle_wal).
WARM_WAL_SEGMENTS = 8


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def build_requests(count: int, port: int, first: int = 0) -> list[bytes]:
    """Complete HTTP/1.1 requests, signed ahead of time (signing is not what we measure);
    request i is event ``key_of(i)``."""
    validator = RequestValidator(TOKEN)
    requests = []
    for i in range(first, first + count):
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


def key_of(i: int) -> str:
    """The store's event key of request i (the store keys a status by its canonical name)."""
    status = STATUSES[i % len(STATUSES)]
    return f"call:CA{i // len(STATUSES):032d}:{CALL_STATUS_ALIASES.get(status, status)}"


@dataclass
class Result:
    """What one load run saw: latencies of the answered requests, the indexes answered 200,
    the other answers by status, failed requests, and how long it took."""

    latencies: list[float] = field(default_factory=list)
    acknowledged: list[int] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    exceptions: int = 0
    elapsed: float = 0.0

    def answer(self, index: int, status: int, latency: float) -> None:
        self.latencies.append(latency)
        if status == 200:
            self.acknowledged.append(index)
        else:
            self.statuses[status] = self.statuses.get(status, 0) + 1

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def p(self, q: float) -> float:
        return percentile([x * 1000 for x in self.latencies], q)


class Link(asyncio.Protocol):
    """One keep-alive connection of the load generator, one request in flight at a time. A
    protocol, not a stream and a task per request: the generator shares the machine with what it
    measures, so it does the least it can (its CPU per request is printed beside the service's)."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.request: tuple[int, float] | None = None  # (index, the time its latency counts from)

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.client.free(self)

    def send(self, index: int, since: float) -> None:
        self.request = (index, since)
        self.transport.write(self.client.requests[index])  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        head_end = self.buffer.find(b"\r\n\r\n")
        if head_end < 0 or self.request is None:
            return
        head = self.buffer[:head_end]
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        if len(self.buffer) < head_end + 4 + length:
            return
        self.buffer = self.buffer[head_end + 4 + length:]
        (index, since), self.request = self.request, None
        self.client.answered(self, index, int(head.split(None, 2)[1]), since)

    def connection_lost(self, exc: Exception | None) -> None:
        self.client.broken(self)


class Client:
    """The generator's connections to the service on ``port``: a request goes out on a free one
    at once, or waits for the next to come free; a broken connection is replaced, and its request
    counted as failed (Twilio would retry it; we only count)."""

    def __init__(self, port: int, requests: list[bytes], connections: int, closed_loop: bool) -> None:
        self.port, self.requests, self.connections = port, requests, connections
        self.closed_loop = closed_loop
        self.result = Result()
        self.idle: list[Link] = []
        self.waiting: collections.deque[tuple[int, float]] = collections.deque()
        self.outstanding = 0
        self.next_index = 0  # closed loop: the next request to send
        self.deadline = 0.0  # closed loop: when to stop sending (0: not started)
        self.finished_sending = False
        self.done = asyncio.get_running_loop().create_future()

    async def open(self) -> None:
        """The connections, opened one after the other as clients arriving over time would: a
        burst of them would all be taken by whichever worker is awake first (uvicorn's workers
        share one listening socket), and "four workers" would be one or two."""
        for _ in range(self.connections):
            await self._connect()
            await asyncio.sleep(CONNECT_SPACING)

    async def _connect(self) -> None:
        loop = asyncio.get_running_loop()
        for _ in range(50):  # a worker being replaced may refuse for a moment
            try:
                await loop.create_connection(lambda: Link(self), "127.0.0.1", self.port)
                return
            except OSError:
                await asyncio.sleep(0.05)
        await loop.create_connection(lambda: Link(self), "127.0.0.1", self.port)

    def submit(self, index: int, since: float) -> None:
        self.outstanding += 1
        if self.idle:
            self.idle.pop().send(index, since)
        else:
            self.waiting.append((index, since))

    def free(self, link: Link) -> None:
        if self.waiting:
            link.send(*self.waiting.popleft())
        elif self.closed_loop and self.next_index < len(self.requests) and time.perf_counter() < self.deadline:
            self.outstanding += 1
            self.next_index += 1
            link.send(self.next_index - 1, time.perf_counter())
        else:
            self.idle.append(link)
            self._maybe_done()

    def answered(self, link: Link, index: int, status: int, since: float) -> None:
        self.result.answer(index, status, time.perf_counter() - since)
        self.outstanding -= 1
        self.free(link)

    def broken(self, link: Link) -> None:
        if link in self.idle:
            self.idle.remove(link)
        if link.request is not None:
            link.request = None
            self.result.exceptions += 1
            self.outstanding -= 1
        if not self.done.done():
            asyncio.get_running_loop().create_task(self._connect())

    def _maybe_done(self) -> None:
        if self.outstanding == 0 and not self.done.done() and self.finished_sending:
            self.done.set_result(None)

    async def finish(self, timeout: float) -> None:
        self.finished_sending = True
        self._maybe_done()
        try:
            await asyncio.wait_for(asyncio.shield(self.done), timeout)
        except TimeoutError:
            self.result.exceptions += self.outstanding
        for link in self.idle:
            link.transport.close()  # type: ignore[union-attr]


async def run_load(port: int, requests: list[bytes], rate: float, connections: int, timeout: float,
                   during: Any = None) -> Result:
    """Open loop: request i is due at start + i/rate, on whichever connection is free (or the
    first to come free): its latency counts from when it was due. ``during(i)``, when given, is
    called as request i is due (a fault injected mid-load)."""
    client = Client(port, requests, connections, closed_loop=False)
    await client.open()
    start = time.perf_counter()
    i = 0
    while i < len(requests):
        now = time.perf_counter()
        due = min(len(requests), int((now - start) * rate) + 1)
        while i < due:
            if during is not None:
                await during(i)
            client.submit(i, start + i / rate)
            i += 1
        if i < len(requests):  # in ticks of at least a millisecond, the event loop's timer resolution
            await asyncio.sleep(max(0.001, start + i / rate - time.perf_counter()))
    await client.finish(timeout)
    client.result.elapsed = time.perf_counter() - start
    return client.result


async def run_closed(port: int, requests: list[bytes], connections: int, seconds: float, timeout: float) -> Result:
    """Closed loop: each connection sends its next request as soon as the last is answered,
    for ``seconds`` or until the requests run out: the service's saturation throughput."""
    client = Client(port, requests, connections, closed_loop=True)
    await client.open()
    start = time.perf_counter()
    client.deadline = start + seconds
    for link in client.idle[:]:
        client.idle.remove(link)
        client.free(link)
    await asyncio.sleep(max(0.0, client.deadline - time.perf_counter()))
    await client.finish(timeout)
    client.result.elapsed = time.perf_counter() - start
    return client.result


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]




# --- the processes measured --------------------------------------------------------------------


def cpu_seconds(processes: list[psutil.Process]) -> float:
    """User + system CPU of these processes (those gone count as 0 from then on)."""
    total = 0.0
    for proc in processes:
        with contextlib.suppress(psutil.Error):
            times = proc.cpu_times()
            total += times.user + times.system
    return total


def own_cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system


class Service:
    """``twilio-widget serve`` on a free port of 127.0.0.1, with a store and N workers."""

    def __init__(self, database: str, workers: int = 1, durability: str = "FULL") -> None:
        self.port = free_port()
        env = {**os.environ, "PYTHONPATH": str(REPO), "TWILIO_AUTH_TOKEN": TOKEN}
        argv = [sys.executable, "-m", "twilio_widget.cli", "serve", "--public-url", PUBLIC_URL, "--host", "127.0.0.1",
                "--port", str(self.port), "--database", database, "--config", "{}", "--log-level", "warning",
                "--durability", durability, "--workers", str(workers)]
        self.proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.workers = workers
        self._wait_until_listening()

    def _wait_until_listening(self) -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"server exited: {self.proc.stderr.read().decode()[-2000:]}")
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                if len(self.worker_processes()) >= self.workers:
                    time.sleep(0.3 if self.workers > 1 else 0)  # every worker has opened its store
                    return
            time.sleep(0.05)
        self.proc.kill()
        raise SystemExit("server did not start within 30 s")

    def worker_processes(self) -> list[psutil.Process]:
        if self.workers == 1:
            return [psutil.Process(self.proc.pid)]
        children = psutil.Process(self.proc.pid).children()
        return [c for c in children if "spawn_main" in " ".join(c.cmdline())]

    def processes(self) -> list[psutil.Process]:
        """The supervisor and every worker, those that replaced a dead one included."""
        main = psutil.Process(self.proc.pid)
        return [main, *main.children(recursive=True)]

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)


def postgres_processes(server: ThrowawayPostgres) -> list[psutil.Process]:
    pid = int((server.data / "postmaster.pid").read_text().split()[0])
    main = psutil.Process(pid)
    return [main, *main.children(recursive=True)]


def stored_keys(database: str) -> set[str]:
    if database.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(database) as conn:
            return {row[0] for row in conn.execute("SELECT key FROM events WHERE kind='call'")}
    with sqlite3.connect(database) as db:
        return {row[0] for row in db.execute("SELECT key FROM events WHERE kind='call'")}


def lost(database: str, result: Result, first: int = 0) -> int:
    """Requests answered 200 whose event is not in the store."""
    keys = stored_keys(database)
    return sum(1 for i in result.acknowledged if key_of(first + i) not in keys)


def fresh_database(server: ThrowawayPostgres, name: str, over: str) -> str:
    """A new database on ``server``, reached ``over`` its unix socket ("unix", as a service on the
    database's own machine would) or loopback TCP ("tcp")."""
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {name}")
        conn.execute(f"CREATE DATABASE {name}")
        conn.execute("CHECKPOINT")  # the WAL segments the last run filled, recycled for this one
    if over == "tcp":
        return server.url.rsplit("/", 1)[0] + f"/{name}"
    return f"postgresql://postgres@/{name}?host={server.folder}&port={server.port}"


def recycle_wal(server: ThrowawayPostgres, segments: int = WARM_WAL_SEGMENTS) -> None:
    """Give a fresh server the recycled WAL segments a server in service has. A new cluster
    creates each 16 MB segment when it needs it (zero-filled and fsynced while every commit waits:
    commits of 60 to 70 ms in the server's log, answers of 100 to 150 ms, once every 8,000 or so
    callbacks on this machine); a server in service renames the segments a checkpoint freed
    instead. So: fill a few, then CHECKPOINT (and once more before each run, in fresh_database)."""
    import psycopg

    with psycopg.connect(server.url, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_wal_warm (x int)")
        for _ in range(segments):
            conn.execute("INSERT INTO bench_wal_warm VALUES (1)")  # a switch needs something written
            conn.execute("SELECT pg_switch_wal()")
        conn.execute("CHECKPOINT")


def load_average() -> float:
    return os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")


def run(coroutine: Any) -> Any:
    """The load generator's event loop: uvloop when there is one (a cheaper client)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


# --- the scenarios -----------------------------------------------------------------------------


@dataclass
class Options:
    seconds: float
    max_requests: int
    connections: int
    timeout: float
    durability: str
    pg_over: str  # how the service reaches PostgreSQL: "unix" (its socket) or "tcp" (loopback)


@dataclass
class Measured:
    """One run's figures and the CPU each party spent on it (ms per request answered)."""

    label: str
    result: Result
    lost: int
    cpu_ms: dict[str, float]
    load: float
    rate: float = 0.0  # the fixed rate offered; 0 for a closed loop
    shares: list[float] = field(default_factory=list)  # each worker's part of the service's CPU (%)

    def held(self) -> bool:
        return self.result.throughput >= 0.95 * self.rate
    def line(self) -> str:
        r = self.result
        errors = sum(r.statuses.values())
        cpu = ", ".join(f"{k} {v:.3f}" for k, v in self.cpu_ms.items())
        return (f"  {self.label:<34} {r.throughput:>8.1f} req/s  p50 {r.p(50):>7.2f}  p99 {r.p(99):>8.2f} ms  "
                f"non-200 {errors:>4}  failed {r.exceptions:>3}  lost {self.lost}  | CPU ms/req: {cpu}  "
                f"| load {self.load:.2f}" + (f"  | by worker {'/'.join(f'{x:.0f}' for x in self.shares)} %"
                                               if len(self.shares) > 1 else ""))


def measure(label: str, database: str, load: Any, parties: dict[str, Any], rate: float = 0.0,
            service: Service | None = None) -> Measured:
    """Run ``load`` (a coroutine factory) and take each party's CPU, and each worker's."""
    before = {name: take() for name, take in parties.items()}
    workers = {p.pid: cpu_seconds([p]) for p in service.worker_processes()} if service else {}
    result = run(load())
    spent = {name: take() - before[name] for name, take in parties.items()}
    answered = max(1, len(result.latencies))
    cpu_ms = {name: round(seconds * 1000 / answered, 3) for name, seconds in spent.items()}
    by_worker = [cpu_seconds([p]) - workers.get(p.pid, 0.0) for p in service.worker_processes()] if service else []
    shares = [100 * x / (sum(by_worker) or 1) for x in by_worker]
    return Measured(label, result, lost(database, result), cpu_ms, load_average(), rate, shares)


def parties_of(service: Service, server: ThrowawayPostgres | None) -> dict[str, Any]:
    parties: dict[str, Any] = {"service": lambda: cpu_seconds(service.processes())}
    if server is not None:
        parties["database"] = lambda: cpu_seconds(postgres_processes(server))
    parties["load generator"] = own_cpu_seconds
    return parties


def sqlite_runs(opts: Options, rate: float) -> list[Measured]:
    runs = []
    with tempfile.TemporaryDirectory(prefix="routing-bench-") as tmp:
        for label, closed in ((f"SQLite, 1 worker, fixed {rate:g}/s", False), ("SQLite, 1 worker, saturation", True)):
            database = str(Path(tmp) / f"{'closed' if closed else 'open'}.sqlite3")
            service = Service(database, 1, opts.durability)
            try:
                count = min(opts.max_requests, int(rate * opts.seconds) if not closed else opts.max_requests)
                requests = build_requests(count, service.port)
                load = (partial(run_closed, service.port, requests, opts.connections, opts.seconds, opts.timeout)
                        if closed else partial(run_load, service.port, requests, rate, opts.connections, opts.timeout))
                runs.append(measure(label, database, load, parties_of(service, None), 0.0 if closed else rate))
            finally:
                service.stop()
    return runs


def postgres_runs(opts: Options, server: ThrowawayPostgres, rate: float) -> list[Measured]:
    runs = []
    for workers in PG_WORKERS:
        database = fresh_database(server, f"bench_closed_{workers}", opts.pg_over)
        service = Service(database, workers)
        try:
            requests = build_requests(opts.max_requests, service.port)
            load = partial(run_closed, service.port, requests, opts.connections, opts.seconds, opts.timeout)
            runs.append(measure(f"PostgreSQL, {workers} worker(s), saturation", database, load,
                                parties_of(service, server), service=service))
        finally:
            service.stop()
    database = fresh_database(server, "bench_open_4", opts.pg_over)
    service = Service(database, 4)
    try:
        requests = build_requests(min(opts.max_requests, int(rate * opts.seconds)), service.port)
        load = partial(run_load, service.port, requests, rate, opts.connections, opts.timeout)
        runs.append(measure(f"PostgreSQL, 4 workers, fixed {rate:g}/s", database, load,
                            parties_of(service, server), rate, service))
    finally:
        service.stop()
    return runs


def fault_runs(opts: Options, server: ThrowawayPostgres, rate: float) -> list[tuple[Measured, str]]:
    """A worker killed with SIGKILL at half-time; then the database restarted at half-time."""
    runs = []
    count = min(opts.max_requests, int(rate * opts.seconds))

    def kill_a_worker(service: Service) -> tuple[Any, list[str]]:
        done: list[str] = []

        async def during(i: int) -> None:
            if i == count // 2 and not done:
                victim = service.worker_processes()[-1]
                victim.kill()
                done.append(f"worker {victim.pid} killed (SIGKILL) at request {i}")
        return during, done

    def restart_the_database(service: Service) -> tuple[Any, list[str]]:
        done: list[str] = []

        def restart(i: int) -> None:
            started = time.perf_counter()
            server.restart()
            done.append(f"PostgreSQL restarted at request {i} (down and up in {time.perf_counter() - started:.1f} s)")

        async def during(i: int) -> None:
            if i == count // 2:  # in a thread: the load goes on while the database is away
                asyncio.get_running_loop().run_in_executor(None, restart, i)
        return during, done

    for name, fault in (("kill -9 of a worker", kill_a_worker), ("PostgreSQL restart", restart_the_database)):
        database = fresh_database(server, "bench_fault", opts.pg_over)
        service = Service(database, 4)
        try:
            requests = build_requests(count, service.port)
            during, what = fault(service)
            load = partial(run_load, service.port, requests, rate, opts.connections, opts.timeout, during)
            measured = measure(f"{name}, 4 workers, {rate:g}/s", database, load, parties_of(service, server), rate,
                               service)
            runs.append((measured, "; ".join(what)))
        finally:
            service.stop()
    return runs


# --- the report --------------------------------------------------------------------------------


def ratio(value: float, target: float) -> str:
    return f"x{value / target:.2f}" if target else "-"


def report(sqlite: list[Measured], postgres: list[Measured], faults: list[tuple[Measured, str]]) -> bool:
    """Print every run and the targets with their ratios; True when every target is met."""
    checks: list[tuple[str, bool, str]] = []
    print(f"machine: {os.cpu_count()} CPUs; load average (1 min) at the end of each run on its line")
    for m in sqlite + postgres:
        print(m.line())
    for m, what in faults:
        print(m.line())
        others = "".join(f", {n} x {s}" for s, n in sorted(m.result.statuses.items()))
        print(f"      {what}; answers: {len(m.result.acknowledged)} x 200{others}, "
              f"{m.result.exceptions} connections broken")
    if sqlite:
        fixed, closed = sqlite
        cpu = closed.cpu_ms["service"]
        checks.append(("SQLite: service CPU per request <= 0.6 ms", cpu <= TARGET_SQLITE_CPU_MS,
                       f"{cpu:.3f} ms (saturation run; {fixed.cpu_ms['service']:.3f} at the fixed rate), "
                       f"{ratio(cpu, TARGET_SQLITE_CPU_MS)} of the target"))
        checks.append(("SQLite: fixed rate held, p99 < 50 ms, 0 lost",
                       fixed.held() and fixed.result.p(99) < TARGET_P99_MS and fixed.lost == 0,
                       f"{fixed.result.throughput:.0f} req/s (x{fixed.result.throughput / TARGET_RATE:.2f} of 500), "
                       f"p99 {fixed.result.p(99):.1f} ms ({ratio(fixed.result.p(99), TARGET_P99_MS)}), "
                       f"lost {fixed.lost}; saturation {closed.result.throughput:.0f} req/s"))
    if postgres:
        fixed = postgres[-1]
        throughputs = ", ".join(f"{m.label.split(',')[1].strip()}: {m.result.throughput:.0f}" for m in postgres[:-1])
        best = max(m.result.throughput for m in postgres)
        checks.append(("PostgreSQL, 4 workers: >= 2,000 req/s", fixed.held() and fixed.rate >= TARGET_PG_RATE,
                       f"{fixed.result.throughput:.0f} req/s at the fixed rate "
                       f"({ratio(fixed.result.throughput, TARGET_PG_RATE)}); saturation {throughputs} "
                       f"(best x{best / TARGET_PG_RATE:.2f})"))
        checks.append(("PostgreSQL, 4 workers: p99 < 50 ms, 0 lost",
                       fixed.result.p(99) < TARGET_P99_MS and fixed.lost == 0,
                       f"p99 {fixed.result.p(99):.1f} ms ({ratio(fixed.result.p(99), TARGET_P99_MS)}), "
                       f"lost {fixed.lost}"))
        cpu = fixed.cpu_ms
        machine_ms = 1000 * (os.cpu_count() or 1) / TARGET_PG_RATE
        spent = sum(cpu.values())
        print(f"  CPU per request at 4 workers: service {cpu['service']:.3f} + database {cpu['database']:.3f} + "
              f"load generator {cpu['load generator']:.3f} = {spent:.3f} ms; 2,000 req/s on this machine "
              f"leaves {machine_ms:.3f} ms of CPU per request in all (x{spent / machine_ms:.2f} of it used)")
    for m, _ in faults:
        checks.append((f"{m.label.split(',')[0]}: every 200 stored", m.lost == 0,
                       f"lost {m.lost} of {len(m.result.acknowledged)} acknowledged"))
    restart = [m for m, _ in faults if m.label.startswith("PostgreSQL restart")]
    if restart:
        answered = restart[0].result.statuses
        checks.append(("PostgreSQL restart: the service answers 503 meanwhile", set(answered) <= {503},
                       f"non-200 answers {answered or 'none (the restart fell between requests)'}"))
    print("targets:")
    for name, met, detail in checks:
        print(f"  {'met   ' if met else 'MISSED'} {name}: {detail}")
    return all(met for _, met, _ in checks)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=TARGET_RATE, help="fixed rate on SQLite (requests/s)")
    parser.add_argument("--pg-rate", type=float, default=TARGET_PG_RATE, help="fixed rate on PostgreSQL")
    parser.add_argument("--fault-rate", type=float, default=1000.0, help="fixed rate of the fault runs")
    parser.add_argument("--seconds", type=float, default=8.0, help="sending time of each run (max 20)")
    parser.add_argument("--max-requests", type=int, default=40_000)
    parser.add_argument("--connections", type=int, default=CONNECTIONS, help="keep-alive connections")
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout (s)")
    parser.add_argument("--durability", choices=["FULL", "NORMAL"], default="FULL", help="SQLite's")
    parser.add_argument("--pg-over", choices=["unix", "tcp"], default="unix",
                        help="how the service reaches PostgreSQL: its unix socket or loopback TCP")
    parser.add_argument("--only", default="sqlite,postgresql,faults", help="scenarios to run, comma-separated")
    parser.add_argument("--quick", action="store_true", help="3 s runs (a smoke test of the benchmark)")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--check", action="store_true", help="exit 1 when a target is missed")
    args = parser.parse_args(argv)
    opts = Options(3.0 if args.quick else min(max(args.seconds, 1.0), 20.0), args.max_requests, args.connections,
                   args.timeout, args.durability, args.pg_over)
    only = set(args.only.split(","))
    over = "its unix socket" if opts.pg_over == "unix" else "loopback TCP"
    print(f"routing benchmark: signed /status/call callbacks over {opts.connections} keep-alive connections, "
          f"{opts.seconds:g} s a run, PostgreSQL over {over}, load average {load_average():.2f} at the start")
    sqlite = sqlite_runs(opts, args.rate) if "sqlite" in only else []
    postgres: list[Measured] = []
    faults: list[tuple[Measured, str]] = []
    if only & {"postgresql", "faults"}:
        reason = unavailable_reason()
        if reason:
            print(f"PostgreSQL runs skipped: {reason}")
        else:
            with ThrowawayPostgres(fsync=True, max_connections=200) as server:
                recycle_wal(server)
                postgres = postgres_runs(opts, server, args.pg_rate) if "postgresql" in only else []
                faults = fault_runs(opts, server, args.fault_rate) if "faults" in only else []
    met = report(sqlite, postgres, faults)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        runs = [*sqlite, *postgres, *(m for m, _ in faults)]
        args.json.write_text(json.dumps([{"label": m.label, "throughput": m.result.throughput, "p99_ms": m.result.p(99),
                                          "lost": m.lost, "cpu_ms": m.cpu_ms, "load": m.load} for m in runs], indent=2))
    return 0 if met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
