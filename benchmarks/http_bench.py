"""HTTP API throughput: 16 concurrent keep-alive clients against ``ledis server --http-port``.

    python benchmarks/http_bench.py                       # GET and SET, 16 clients, 5 s each
    python benchmarks/http_bench.py --seconds 10 --rounds 3
    python benchmarks/http_bench.py --compare /work/main  # the same against another tree too
    python benchmarks/http_bench.py --client python       # without wrk: the built-in client

Starts ledis (``appendfsync everysec``) with the HTTP API on free ports, from this tree (and
with ``--compare DIR`` from that source tree too, alternating per round), and drives it with
16 keep-alive connections:

* ``GET``: ``GET /GET/key`` of one 3-byte value;
* ``SET``: ``GET /SET/key:<random of 100k>/xxx`` (each a write, committed before the answer).

The load comes from ``wrk`` when it is installed (C, two threads: it is never the limit), or
else from the built-in client: 4 processes of 4 connections each, raw sockets on uvloop,
one request in flight per connection. (One aiohttp ``ClientSession`` in one process, what the
first figures used, tops out near the server's own rate: it measured itself.)

Printed per workload and tree: requests/s (best of the rounds) and the server's CPU time per
request (user + system from /proc, median of the rounds), which moves far less than
throughput on a shared machine. Servers are pinned to core 0 and the client to core 1 with
``--pin`` (off by default: on a 2-core box shared with other work, pinning can make things
worse).
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, wait_port  # noqa: E402

CLIENTS = 16
KEYSPACE = 100_000
SET_LUA = f"""
request = function()
  return wrk.format("GET", "/SET/key:" .. math.random(1, {KEYSPACE}) .. "/xxx")
end
"""


def taskset(core: int, pin: bool) -> list[str]:
    if pin and shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


class LedisServer:
    """``ledis server`` from source tree ``tree`` with the HTTP API on a free port."""

    def __init__(self, tree: Path, pin: bool) -> None:
        self.tree = tree
        self.tmp = tempfile.mkdtemp(prefix="ledis-http-bench-")
        self.port = free_port()
        self.http_port = free_port()
        env = dict(os.environ, PYTHONPATH=str(tree))
        self.proc = subprocess.Popen(
            [*taskset(0, pin), sys.executable, "-m", "ledis", "server", "--port", str(self.port),
             "--dir", os.path.join(self.tmp, "data"), "--appendfsync", "everysec",
             "--http-port", str(self.http_port), "--loglevel", "warning"],
            cwd=str(tree), env=env)
        wait_port(self.http_port, self.proc)
        self.get("/SET/key/xxx")

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(f"http://127.0.0.1:{self.http_port}{path}",
                                    timeout=10) as answer:
            return answer.read()

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        with open(f"/proc/{self.proc.pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)


# --- load: wrk ---------------------------------------------------------------------------------
def run_wrk(port: int, workload: str, seconds: float, pin: bool) -> tuple[int, float]:
    """(requests completed, elapsed seconds) from wrk."""
    url = f"http://127.0.0.1:{port}/GET/key"
    script = None
    args = [*taskset(1, pin), "wrk", "-t2", f"-c{CLIENTS}", f"-d{seconds:g}s"]
    if workload == "SET":
        fd, script = tempfile.mkstemp(suffix=".lua")
        with os.fdopen(fd, "w") as f:
            f.write(SET_LUA)
        args += ["-s", script]
    try:
        out = subprocess.run([*args, url], capture_output=True, text=True, check=True,
                             timeout=seconds + 60).stdout
    finally:
        if script:
            os.unlink(script)
    match = re.search(r"(\d+) requests in ([\d.]+)(m?s)", out)
    if match is None or "Non-2xx" in out or "Socket errors" in out:
        raise RuntimeError(f"wrk said:\n{out}")
    elapsed = float(match.group(2)) / (1000 if match.group(3) == "ms" else 1)
    return int(match.group(1)), elapsed


# --- load: the built-in client -----------------------------------------------------------------
async def _connection(port: int, workload: str, deadline: float, seed: int) -> int:
    rng = random.Random(seed)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    done = 0
    try:
        while time.monotonic() < deadline:
            if workload == "SET":
                path = b"/SET/key:%d/xxx" % rng.randint(1, KEYSPACE)
            else:
                path = b"/GET/key"
            writer.write(b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" % path)
            head = await reader.readuntil(b"\r\n\r\n")
            if not head.startswith(b"HTTP/1.1 200"):
                raise RuntimeError(head.decode("latin-1"))
            length = int(re.search(rb"Content-Length: (\d+)", head, re.I).group(1))  # type: ignore[union-attr]
            await reader.readexactly(length)
            done += 1
    finally:
        writer.close()
    return done


def _client_process(port: int, workload: str, connections: int, seconds: float,
                    seed: int, queue: multiprocessing.Queue) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass

    async def main() -> int:
        deadline = time.monotonic() + seconds
        counts = await asyncio.gather(*(_connection(port, workload, deadline, seed * 100 + i)
                                        for i in range(connections)))
        return sum(counts)

    queue.put(asyncio.run(main()))


def run_python(port: int, workload: str, seconds: float, pin: bool) -> tuple[int, float]:
    processes = 4
    queue: multiprocessing.Queue = multiprocessing.Queue()
    procs = [multiprocessing.Process(target=_client_process,
                                     args=(port, workload, CLIENTS // processes, seconds, i,
                                           queue))
             for i in range(processes)]
    started = time.monotonic()
    for p in procs:
        p.start()
        if pin and hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) >= 2:
            os.sched_setaffinity(p.pid, {1})
    total = sum(queue.get(timeout=seconds + 60) for _ in procs)
    for p in procs:
        p.join()
    return total, time.monotonic() - started


# --- main --------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--only", default="GET,SET", help="workloads: GET,SET")
    parser.add_argument("--compare", type=Path, help="another source tree, run alternately")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--pin", action="store_true", help="server on core 0, client on core 1")
    args = parser.parse_args()
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = run_wrk if client == "wrk" else run_python
    trees = [("this tree", ROOT)]
    if args.compare:
        trees.append((str(args.compare), args.compare.resolve()))
    workloads = [w.strip().upper() for w in args.only.split(",") if w.strip()]
    results: dict[tuple[str, str], list[tuple[float, float]]] = {}
    for round_ in range(args.rounds):
        for label, tree in trees if round_ % 2 == 0 else trees[::-1]:
            server = LedisServer(tree, args.pin)
            try:
                for workload in workloads:
                    cpu = server.cpu_seconds()
                    count, elapsed = load(server.http_port, workload, args.seconds, args.pin)
                    cpu = server.cpu_seconds() - cpu
                    results.setdefault((workload, label), []).append(
                        (count / elapsed, cpu / count * 1e6))
            finally:
                server.stop()
    print(f"{CLIENTS} keep-alive clients, load from {client}, {args.rounds} round(s) of "
          f"{args.seconds:g} s, loadavg {os.getloadavg()[0]:.1f}")
    print()
    print("| workload | tree | requests/s (best) | server CPU us/request (median) |")
    print("|---|---|---|---|")
    for workload in workloads:
        for label, _tree in trees:
            runs = results[(workload, label)]
            best = max(r for r, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"| {workload} | {label} | {best:,.0f} | {cpu:.1f} |")


if __name__ == "__main__":
    main()
