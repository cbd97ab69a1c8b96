#!/usr/bin/env python
"""Collections at scale (issue 3): fill one hash, one sorted set and one list with N elements
each through a real ledis server, then measure peak RSS, on-disk size and point/range latency
on the big collections against the same operations on 100-element collections.

    python benchmarks/scale.py --elements 5000000
    python benchmarks/scale.py --elements 200000 --json out.json

The server is started as a subprocess (``python -m ledis server``, default config, its own data
dir) unless ``--port`` points at a running one. Peak RSS is the server's VmHWM from
/proc/<pid>/status (also sampled as VmRSS during the load). Every element is checked readable at
the end: HLEN/ZCARD/LLEN exact plus random spot checks (HGET, ZSCORE, ZRANK, LINDEX).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent

BIG = {"hash": "scale:hash", "zset": "scale:zset", "list": "scale:list"}
SMALL = {"hash": "small:hash", "zset": "small:zset", "list": "small:list"}


def field(i: int) -> bytes:
    return b"f%d" % i


def value(i: int) -> bytes:
    return b"v%d" % i


def member(i: int) -> bytes:
    return b"m%d" % i


def elem(i: int) -> bytes:
    return b"e%d" % i


# --------------------------------------------------------------------------- server process

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _proc_status(pid: int) -> dict[str, int]:
    """VmRSS / VmHWM of ``pid`` in bytes (empty if the process is gone)."""
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(("VmRSS:", "VmHWM:")):
                    name, num, _unit = line.split()
                    out[name[:-1]] = int(num) * 1024
    except OSError:
        pass
    return out


def du_bytes(path: str) -> int:
    out = subprocess.run(["du", "-sb", path], capture_output=True, text=True, check=True)
    return int(out.stdout.split()[0])


def disk_breakdown(path: str) -> dict[str, int]:
    """Bytes in SST files vs write-ahead logs (*.log) vs the rest of a RocksDB dir."""
    out = {"sst": 0, "wal": 0, "other": 0}
    for name in os.listdir(path):
        try:
            size = os.path.getsize(os.path.join(path, name))
        except OSError:
            continue
        out["sst" if name.endswith(".sst") else "wal" if name.endswith(".log") else "other"] += size
    return out


class Server:
    def __init__(self, extra: list[str], data_dir: str | None) -> None:
        self.port = _free_port()
        self._own = data_dir is None
        self.dir = data_dir or tempfile.mkdtemp(prefix="ledis-scale-")
        self.db_dir = os.path.join(self.dir, "db")
        self.extra = extra
        self.proc: subprocess.Popen | None = None

    def start(self) -> Server:
        self.log = open(os.path.join(self.dir, "server.log"), "ab")
        cmd = [sys.executable, "-m", "ledis", "server", "--port", str(self.port),
               "--dir", self.db_dir, "--loglevel", "warning", *self.extra]
        self.proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=self.log, stderr=self.log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}, see {self.dir}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.05)
        raise TimeoutError("server did not open its port")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def cleanup(self) -> None:
        self.stop()
        if self._own:
            shutil.rmtree(self.dir, ignore_errors=True)


class RssSampler(threading.Thread):
    """Samples VmRSS of a pid every ``every`` seconds; keeps the maximum."""

    def __init__(self, pid: int, every: float = 0.5) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.max_rss = 0
        self._halt = threading.Event()

    def run(self) -> None:
        while not self._halt.is_set():
            self.max_rss = max(self.max_rss, _proc_status(self.pid).get("VmRSS", 0))
            self._halt.wait(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


# --------------------------------------------------------------------------- load

def load(r: redis.Redis, kind: str, key: str, n: int, batch: int, pipeline: int,
         progress: bool) -> float:
    """Fill ``key`` with ``n`` elements; returns elements/s."""
    t0 = time.perf_counter()
    pipe = r.pipeline(transaction=False)
    queued = 0
    last_report = t0
    for start in range(0, n, batch):
        stop = min(n, start + batch)
        if kind == "hash":
            args: list = []
            for i in range(start, stop):
                args += (field(i), value(i))
            pipe.execute_command("HSET", key, *args)
        elif kind == "zset":
            args = []
            for i in range(start, stop):
                args += (i, member(i))
            pipe.execute_command("ZADD", key, *args)
        else:
            pipe.execute_command("RPUSH", key, *[elem(i) for i in range(start, stop)])
        queued += 1
        if queued == pipeline:
            pipe.execute()
            queued = 0
            now = time.perf_counter()
            if progress and now - last_report > 10:
                last_report = now
                print(f"  {kind}: {stop:,}/{n:,} ({stop / (now - t0):,.0f} el/s)",
                      file=sys.stderr, flush=True)
    if queued:
        pipe.execute()
    return n / (time.perf_counter() - t0)


# --------------------------------------------------------------------------- latency

def _timed(fn, calls: int, budget_s: float) -> dict:
    """Median / p99 latency in microseconds of ``fn(i)``; stops early past ``budget_s``
    (at least 5 calls), reporting how many calls were made."""
    lat = []
    start = time.perf_counter()
    for i in range(calls):
        t = time.perf_counter()
        fn(i)
        lat.append(time.perf_counter() - t)
        if len(lat) >= 5 and time.perf_counter() - start > budget_s:
            break
    lat.sort()
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))]
    return {"median_us": statistics.median(lat) * 1e6, "p99_us": p99 * 1e6, "calls": len(lat)}


def latencies(r: redis.Redis, keys: dict, n: int, calls: int, budget_s: float) -> dict:
    rnd = random.Random(7)
    mid = n // 2
    idx = [rnd.randrange(n) for _ in range(calls)]
    h, z, lst = keys["hash"], keys["zset"], keys["list"]
    ops = {
        "HGET": lambda i: r.execute_command("HGET", h, field(idx[i])),
        "ZRANK (middle)": lambda i: r.execute_command("ZRANK", z, member(mid)),
        "ZRANGE 0 9": lambda i: r.execute_command("ZRANGE", z, 0, 9),
        "ZRANGE BYSCORE LIMIT 0 10": lambda i: r.execute_command(
            "ZRANGE", z, idx[i], "+inf", "BYSCORE", "LIMIT", 0, 10),
        "LINDEX (middle)": lambda i: r.execute_command("LINDEX", lst, mid),
    }
    return {name: _timed(fn, calls, budget_s) for name, fn in ops.items()}


# --------------------------------------------------------------------------- verification

def verify(r: redis.Redis, keys: dict, n: int, spots: int, rank_spots: int) -> list[str]:
    """Problems found (empty list = every check passed)."""
    bad = []
    for cmd, kind in (("HLEN", "hash"), ("ZCARD", "zset"), ("LLEN", "list")):
        got = r.execute_command(cmd, keys[kind])
        if got != n:
            bad.append(f"{cmd} {keys[kind]} = {got}, expected {n}")
    rnd = random.Random(11)
    sample = [0, n - 1, n // 2] + [rnd.randrange(n) for _ in range(spots)]
    pipe = r.pipeline(transaction=False)
    for i in sample:
        pipe.execute_command("HGET", keys["hash"], field(i))
        pipe.execute_command("ZSCORE", keys["zset"], member(i))
        pipe.execute_command("LINDEX", keys["list"], i)
    res = pipe.execute()
    for j, i in enumerate(sample):
        hv, zs, lv = res[3 * j:3 * j + 3]
        if hv != value(i):
            bad.append(f"HGET field {i}: {hv!r}")
        if zs is None or float(zs) != i:
            bad.append(f"ZSCORE member {i}: {zs!r}")
        if lv != elem(i):
            bad.append(f"LINDEX {i}: {lv!r}")
    # ZRANK walks the score index (O(rank)): a few near both ends and one in the middle
    ranks = [0, 1, n - 1, n // 2][:max(rank_spots, 1)]
    ranks += [rnd.randrange(n) for _ in range(max(0, rank_spots - 4))]
    for i in ranks:
        got = r.execute_command("ZRANK", keys["zset"], member(i))
        if got != i:
            bad.append(f"ZRANK member {i}: {got!r}")
    head = r.execute_command("ZRANGE", keys["zset"], 0, 9)
    if head != [member(i) for i in range(min(10, n))]:
        bad.append(f"ZRANGE 0 9: {head!r}")
    tail = r.execute_command("LRANGE", keys["list"], -3, -1)
    if tail != [elem(i) for i in range(max(0, n - 3), n)]:
        bad.append(f"LRANGE -3 -1: {tail!r}")
    return bad


# --------------------------------------------------------------------------- main

def run(n: int, batch: int = 1000, pipeline: int = 10, calls: int = 1000, budget_s: float = 30.0,
        small: int = 100, spots: int = 200, rank_spots: int = 4, extra: list[str] | None = None,
        data_dir: str | None = None, keep: bool = False, progress: bool = True) -> dict:
    srv = Server(extra or [], data_dir).start()
    pid = srv.proc.pid
    sampler = RssSampler(pid)
    sampler.start()
    result: dict = {"elements": n, "batch": batch, "pipeline": pipeline, "nproc": os.cpu_count(),
                    "server_pid": pid, "data_dir": srv.db_dir}
    try:
        r = redis.Redis(port=srv.port, socket_timeout=600)
        result["rss_start"] = _proc_status(pid).get("VmRSS", 0)
        rates = {}
        for kind in ("hash", "zset", "list"):
            rates[kind] = load(r, kind, BIG[kind], n, batch, pipeline, progress)
            if progress:
                st = _proc_status(pid)
                print(f"{kind}: {rates[kind]:,.0f} elements/s, RSS {st.get('VmRSS', 0) >> 20} MB,"
                      f" peak {st.get('VmHWM', 0) >> 20} MB", file=sys.stderr, flush=True)
        for kind in ("hash", "zset", "list"):
            load(r, kind, SMALL[kind], small, batch, pipeline, False)
        result["load_rate"] = rates
        st = _proc_status(pid)
        result["rss_after_load"] = st.get("VmRSS", 0)
        result["du_after_load"] = du_bytes(srv.db_dir)
        result["disk_after_load"] = disk_breakdown(srv.db_dir)
        if progress:
            print("verifying ...", file=sys.stderr, flush=True)
        result["problems"] = verify(r, BIG, n, spots, rank_spots)
        result["problems"] += verify(r, SMALL, small, 20, 4)
        if progress:
            print("latency ...", file=sys.stderr, flush=True)
        result["latency_big"] = latencies(r, BIG, n, calls, budget_s)
        result["latency_small"] = latencies(r, SMALL, small, calls, budget_s)
        st = _proc_status(pid)
        result["rss_end"] = st.get("VmRSS", 0)
        result["du_end"] = du_bytes(srv.db_dir)
        result["disk_end"] = disk_breakdown(srv.db_dir)
        try:
            info = r.info("memory")
            result["used_memory"] = info.get("used_memory")
        except redis.RedisError:
            pass
        # VmHWM is the kernel's own peak of the whole process; the sampler is a cross-check
        result["peak_rss"] = max(st.get("VmHWM", 0), sampler.max_rss)
        result["vmhwm"] = st.get("VmHWM", 0)
    finally:
        try:
            if keep:
                srv.stop()
                print(f"data kept in {srv.dir}", file=sys.stderr)
            else:
                srv.cleanup()
        finally:
            sampler.stop()
    return result


def markdown(res: dict) -> str:
    mb = 1 << 20
    n = res["elements"]
    lines = [f"N = {n:,} elements per collection, batches of {res['batch']} elements per command, "
             f"{res['pipeline']} commands per pipeline.", "",
             "| type | load rate (elements/s) |", "|---|---:|"]
    for kind, rate in res["load_rate"].items():
        lines.append(f"| {kind} | {rate:,.0f} |")
    lines += ["", "| measure | value |", "|---|---:|",
              f"| server peak RSS (VmHWM) | {res['peak_rss'] / mb:,.0f} MB |",
              f"| RSS after load | {res['rss_after_load'] / mb:,.0f} MB |",
              f"| RSS at the end | {res['rss_end'] / mb:,.0f} MB |",
              f"| data dir after load (du) | {res['du_after_load'] / mb:,.0f} MB |",
              f"| data dir at the end (du) | {res['du_end'] / mb:,.0f} MB |",
              "| of which SST / WAL at the end | {:,.0f} MB / {:,.0f} MB |".format(
                  res["disk_end"]["sst"] / mb, res["disk_end"]["wal"] / mb), "",
              "| operation | big median (us) | big p99 (us) | big calls | small (100) median (us) "
              "| small p99 (us) |", "|---|---:|---:|---:|---:|---:|"]
    for op, big in res["latency_big"].items():
        sm = res["latency_small"][op]
        lines.append(f"| {op} | {big['median_us']:,.0f} | {big['p99_us']:,.0f} | {big['calls']} "
                     f"| {sm['median_us']:,.0f} | {sm['p99_us']:,.0f} |")
    if res["problems"]:
        lines += ["", "PROBLEMS:"] + [f"- {p}" for p in res["problems"]]
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--elements", type=int, default=5_000_000, help="elements per collection")
    ap.add_argument("--batch", type=int, default=1000, help="elements per HSET/ZADD/RPUSH")
    ap.add_argument("--pipeline", type=int, default=10, help="commands per pipeline round trip")
    ap.add_argument("--calls", type=int, default=1000, help="calls per latency measurement")
    ap.add_argument("--budget", type=float, default=30.0,
                    help="max seconds per latency measurement (slow ops stop early, >= 5 calls)")
    ap.add_argument("--small", type=int, default=100, help="size of the small collections")
    ap.add_argument("--dir", default=None, help="data dir (default: a temp dir, removed)")
    ap.add_argument("--keep", action="store_true", help="keep the data dir")
    ap.add_argument("--json", default=None, help="write the raw result here")
    ap.add_argument("--server-arg", action="append", default=[],
                    help="extra argument for `ledis server` (repeatable)")
    a = ap.parse_args()
    res = run(a.elements, a.batch, a.pipeline, a.calls, a.budget, a.small,
              extra=a.server_arg, data_dir=a.dir, keep=a.keep)
    if a.json:
        Path(a.json).write_text(json.dumps(res, indent=2))
    print(markdown(res))
    return 1 if res["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
