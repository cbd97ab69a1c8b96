"""Event-loop stall probe: how long other clients wait while one client runs a big operation.

    python benchmarks/stall_probe.py                   # 1M elements, ledis and redis-server
    python benchmarks/stall_probe.py --size 200000 --only del_set,flushdb --no-redis

A probe client (its own process) sends PING, waits for PONG, sleeps ``--interval`` and
again, recording each round trip, while another client fills the server and then runs, one
after the other:

- ``keys``: KEYS * over ``size`` string keys
- ``hgetall``: HGETALL of a ``size``-field hash
- ``del_set``: DEL of a ``size``-member set
- ``del_hash``: DEL of a ``size``-field hash
- ``flushdb``: FLUSHDB of ``size`` keys
- ``zrangebyscore``: ZRANGEBYSCORE -inf +inf of a ``size``-member zset
- ``xrange``: XRANGE - + of a ``size``-entry stream

For each operation it reports the operation's own duration and the longest and p99 PING
round trip from just before the operation was sent until ``--after`` seconds (1.5) after its
reply was read (that covers the commit and ledis's compaction of a big deleted range, which
starts a second later): the longest is the stall every other client saw. The same runs
against ``redis-server --appendonly yes --appendfsync everysec`` for comparison (Redis blocks
too where the work is O(n) on its single thread: KEYS, HGETALL, a synchronous DEL or
FLUSHDB).

``measure()`` is what ``tests/test_stall.py`` (slow) calls.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import hiredis

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, wait_port  # noqa: E402

OPERATIONS = ("keys", "hgetall", "del_set", "del_hash", "flushdb", "zrangebyscore", "xrange")
BATCH = 1000  # elements per filling command


def _command(*argv: bytes) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


class Client:
    """A raw RESP connection (no client library between the bytes and the clock)."""

    def __init__(self, port: int) -> None:
        self.sock = socket.create_connection(("127.0.0.1", port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.reader = hiredis.Reader()

    def send(self, *argv: bytes) -> None:
        self.sock.sendall(_command(*argv))

    def read(self) -> object:
        while True:
            reply = self.reader.gets()
            if reply is not False:
                if isinstance(reply, hiredis.ReplyError):
                    raise RuntimeError(f"server error: {reply}")
                return reply
            data = self.sock.recv(1 << 20)
            if not data:
                raise ConnectionError("server closed the connection")
            self.reader.feed(data)

    def call(self, *argv: bytes) -> object:
        self.send(*argv)
        return self.read()

    def pipeline(self, commands: list[tuple[bytes, ...]]) -> None:
        self.sock.sendall(b"".join(_command(*c) for c in commands))
        for _ in commands:
            self.read()

    def close(self) -> None:
        self.sock.close()


# --- the probe ------------------------------------------------------------------------------


def _probe(port: int, interval: float, ready, stop, out) -> None:
    """Child process: PING round trips as (sent_at, seconds) until ``stop`` is set."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    ping = _command(b"PING")
    perf = time.perf_counter
    samples = []
    count = 0
    while not stop.is_set():
        count += 1
        if count == 100:
            ready.set()  # connected and past the first round trips
        start = perf()
        sock.sendall(ping)
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = sock.recv(64)
            if not chunk:
                raise ConnectionError("server closed the probe connection")
            got += chunk
        samples.append((start, perf() - start))
        time.sleep(interval)
    sock.close()
    out.send(samples)


class Probe:
    def __init__(self, port: int, interval: float = 0.001) -> None:
        ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: no shared GIL
        self.stop = ctx.Event()
        self.ready = ctx.Event()
        self.recv, send = ctx.Pipe(duplex=False)
        self.proc = ctx.Process(target=_probe,
                                args=(port, interval, self.ready, self.stop, send), daemon=True)

    def __enter__(self) -> Probe:
        self.proc.start()
        if not self.ready.wait(60):
            raise RuntimeError("the probe process did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc.is_alive() and not self.stop.is_set():
            self.stop.set()
        self.proc.join(10)
        if self.proc.is_alive():
            self.proc.kill()

    def samples(self) -> list[tuple[float, float]]:
        self.stop.set()
        samples = self.recv.recv()
        self.proc.join(10)
        return samples


@dataclass
class Stall:
    operation: str
    duration_ms: float
    max_ms: float
    p99_ms: float
    pings: int
    max_at_ms: float  # when the longest round trip started, after the operation was sent


def _window(samples: list[tuple[float, float]], start: float, end: float
            ) -> list[tuple[float, float]]:
    """(round trip, when it started relative to ``start``) of the pings in flight at any
    moment of ``start``..``end``, shortest first."""
    return sorted((lat, sent - start) for sent, lat in samples
                  if sent + lat >= start and sent <= end)


def fill(client: Client, operation: str, size: int) -> None:
    """Put what ``operation`` works on into the (flushed) current database."""
    client.call(b"FLUSHDB")
    commands: list[tuple[bytes, ...]] = []
    for first in range(0, size, BATCH):
        ids = range(first, min(first + BATCH, size))
        if operation in ("keys", "flushdb"):
            args = [a for i in ids for a in (b"key:%d" % i, b"v")]
            commands.append((b"MSET", *args))
        elif operation in ("hgetall", "del_hash"):
            args = [a for i in ids for a in (b"field:%d" % i, b"v")]
            commands.append((b"HSET", b"big", *args))
        elif operation == "xrange":  # one entry per XADD: a batch of commands
            commands.extend((b"XADD", b"big", b"%d-1" % (i + 1), b"f", b"v") for i in ids)
        elif operation == "zrangebyscore":
            args = [a for i in ids for a in (b"%d" % i, b"member:%d" % i)]
            commands.append((b"ZADD", b"big", *args))
        else:
            commands.append((b"SADD", b"big", *(b"member:%d" % i for i in ids)))
        if len(commands) >= 20:
            client.pipeline(commands)
            commands = []
    if commands:
        client.pipeline(commands)


OP_COMMANDS = {
    "keys": (b"KEYS", b"*"),
    "hgetall": (b"HGETALL", b"big"),
    "del_set": (b"DEL", b"big"),
    "del_hash": (b"DEL", b"big"),
    "flushdb": (b"FLUSHDB",),
    "zrangebyscore": (b"ZRANGEBYSCORE", b"big", b"-inf", b"+inf"),
    "xrange": (b"XRANGE", b"big", b"-", b"+"),
}


def measure(port: int, operations: tuple[str, ...] = OPERATIONS, size: int = 1_000_000,
            interval: float = 0.001, after: float = 1.5) -> list[Stall]:
    """Fill and run each operation against the server on ``port`` with the probe running."""
    client = Client(port)
    results = []
    try:
        for operation in operations:
            fill(client, operation, size)
            client.call(b"PING")
            time.sleep(1.0)  # the fill's group commit / background work settles first
            with Probe(port, interval) as probe:
                start = time.perf_counter()
                client.call(*OP_COMMANDS[operation])
                end = time.perf_counter()
                time.sleep(after)  # a stall after the reply: a commit, the compactor
                samples = probe.samples()
            window = _window(samples, start, end + after)
            if not window:
                raise RuntimeError(f"the probe got no reply during {operation}")
            worst, worst_at = window[-1]
            p99 = window[min(len(window) - 1, int(len(window) * 0.99))][0]
            results.append(Stall(operation, (end - start) * 1000, worst * 1000, p99 * 1000,
                                 len(window), worst_at * 1000))
        client.call(b"FLUSHDB")
    finally:
        client.close()
    return results


def start_servers(tmp: str, redis: bool) -> tuple[list[subprocess.Popen], dict[str, int]]:
    ports = {"ledis": free_port()}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "ledis", "server", "--port", str(ports["ledis"]),
         "--dir", os.path.join(tmp, "ledis"), "--appendfsync", "everysec",
         "--loglevel", "warning"], cwd=str(ROOT))]
    if redis:
        ports["redis"] = free_port()
        procs.append(subprocess.Popen(
            ["redis-server", "--port", str(ports["redis"]), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "yes", "--appendfsync", "everysec", "--dir", tmp,
             "--loglevel", "warning"], stdout=subprocess.DEVNULL))
    for proc, port in zip(procs, ports.values(), strict=True):
        wait_port(port, proc)
    return procs, ports


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=1_000_000, help="elements / keys per operation")
    ap.add_argument("--only", default="", help=f"comma-separated of {', '.join(OPERATIONS)}")
    ap.add_argument("--no-redis", action="store_true", help="ledis only")
    ap.add_argument("--interval", type=float, default=0.001, help="probe sleep between PINGs")
    ap.add_argument("--after", type=float, default=1.5,
                    help="seconds after the reply that still count")
    args = ap.parse_args(argv)
    operations = tuple(o.strip().lower() for o in args.only.split(",") if o.strip()) \
        or OPERATIONS
    unknown = [o for o in operations if o not in OPERATIONS]
    if unknown:
        print(f"unknown operation(s) {unknown}: {', '.join(OPERATIONS)}")
        return 2
    redis = not args.no_redis and shutil.which("redis-server") is not None
    tmp = tempfile.mkdtemp(prefix="ledis-stall-")
    procs, ports = start_servers(tmp, redis)
    rows = []
    try:
        for name, port in ports.items():
            for s in measure(port, operations, args.size, args.interval, args.after):
                print(f"{name:<6} {s.operation:<9} {s.duration_ms:9.1f} ms  probe max "
                      f"{s.max_ms:8.1f} ms (at {s.max_at_ms:+.0f} ms)  p99 {s.p99_ms:8.1f} ms"
                      f"  ({s.pings} pings)",
                      file=sys.stderr, flush=True)
                rows.append((name, s))
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\nStall probe, {args.size:,} elements, PING every {args.interval * 1000:g} ms "
          f"({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores)\n")
    print("| operation | server | operation ms | probe max ms (the stall) | max at ms "
          "| probe p99 ms |")
    print("|---|---|---|---|---|---|")
    for name, s in sorted(rows, key=lambda r: (OPERATIONS.index(r[1].operation), r[0])):
        print(f"| {s.operation} | {name} | {s.duration_ms:.1f} | {s.max_ms:.1f} | "
              f"{s.max_at_ms:+.0f} | {s.p99_ms:.1f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
