"""Reads of a store bigger than the cache while other clients retire small collections.

    python benchmarks/churn_bench.py                  # ledis and redis-server side by side
    python benchmarks/churn_bench.py --cold 200000 --reads 100000 --no-redis

Every DEL, expiry or overwrite of a hash, set, list or zset retires its sub-keys. Until
session 12 ledis did that with one RocksDB range tombstone per collection, and RocksDB makes
the first read of a column family after each write that adds a range tombstone rebuild its
list of the memtable's range tombstones: O(tombstones in the memtable), so reads that miss
ledis's cache got slower and slower until the memtable flushed (docs/PERFORMANCE.md, "Range
tombstones"). This shows it from outside, over TCP:

1. fill ``--cold`` hashes ``cold:<12 digits>`` of one field (more than the 200k entries of
   ledis's default read cache, so random reads reach RocksDB);
2. *alone*: ``redis-benchmark -c 50 -r COLD HGET cold:__rand_int__ f`` (``--reads``
   requests), requests/s and p99;
3. *with churn*: the same while a churn client (its own process) pipelines, 32 at a time,
   ``HSET h:<i> a xxx b xxx`` and ``DEL h:<i - 1000>`` (each DEL retires a 2-field hash
   written a moment before), as fast as the server answers; it reports the churn's
   commands/s too.

4. *deletes in order*: ``--deletes`` 2-field hashes made one after the other, then DEL of all
   of them (pipelined 100 at a time) in the order they were made, and again (fresh hashes) in
   reverse order: DELs/s. Reverse order is the worst case of point deletes walked with an
   unbounded iterator (each walk stepped over the tombstones of every hash deleted so far).

Servers on core 0, clients on core 1, as ``bench.py``; redis-server with ``--appendonly yes
--appendfsync everysec``.
"""

from __future__ import annotations

import argparse
import csv
import io
import multiprocessing
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from bench import taskset  # noqa: E402
from stall_probe import Client  # noqa: E402

from tests.helpers import free_port, wait_port  # noqa: E402

FILL_BATCH = 1000
CHURN_PIPELINE = 32
CHURN_LAG = 1000  # DEL h:<i - LAG>: a hash written a moment before, committed by then


def start(name: str, tmp: str) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if name == "ledis":
        argv = [sys.executable, "-m", "ledis", "server", "--port", str(port),
                "--dir", os.path.join(tmp, "ledis"), "--appendfsync", "everysec",
                "--loglevel", "warning"]
    else:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec", "--dir", tmp,
                "--loglevel", "warning"]
    proc = subprocess.Popen([*taskset(0), *argv], cwd=str(ROOT), stdout=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def fill(port: int, cold: int) -> None:
    client = Client(port)
    for lo in range(0, cold, FILL_BATCH):
        client.pipeline([(b"HSET", b"cold:%012d" % i, b"f", b"xxx")
                         for i in range(lo, min(cold, lo + FILL_BATCH))])
    client.close()


def _churn(port: int, stop, out) -> None:
    """Child process: HSET a fresh small hash and DEL an older one, pipelined, until stopped."""
    os.sched_setaffinity(0, {1})
    client = Client(port)
    i = 0
    start = time.perf_counter()
    while not stop.is_set():
        batch: list[tuple[bytes, ...]] = []
        for _ in range(CHURN_PIPELINE // 2):
            batch.append((b"HSET", b"h:%d" % i, b"a", b"xxx", b"b", b"xxx"))
            batch.append((b"DEL", b"h:%d" % (i - CHURN_LAG)))
            i += 1
        client.pipeline(batch)
    out.put(2 * i / (time.perf_counter() - start))
    client.close()


def deletes(port: int, n: int, reverse: bool) -> float:
    """DELs/s of ``n`` fresh 2-field hashes, in the order they were made or the reverse."""
    client = Client(port)
    tag = b"r" if reverse else b"f"
    for lo in range(0, n, FILL_BATCH):
        client.pipeline([(b"HSET", b"d%s:%d" % (tag, i), b"a", b"xxx", b"b", b"xxx")
                         for i in range(lo, min(n, lo + FILL_BATCH))])
    order = range(n - 1, -1, -1) if reverse else range(n)
    start = time.perf_counter()
    batch: list[tuple[bytes, ...]] = []
    for i in order:
        batch.append((b"DEL", b"d%s:%d" % (tag, i)))
        if len(batch) == 100:
            client.pipeline(batch)
            batch = []
    if batch:
        client.pipeline(batch)
    rate = n / (time.perf_counter() - start)
    client.close()
    return rate


def read_run(port: int, cold: int, reads: int) -> tuple[float, float]:
    """requests/s and p99 (ms) of redis-benchmark's random HGETs."""
    cmd = [*taskset(1), "redis-benchmark", "-p", str(port), "-c", "50", "-n", str(reads),
           "-r", str(cold), "--csv", "HGET", "cold:__rand_int__", "f"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    for row in list(csv.reader(io.StringIO(out.stdout)))[1:]:
        try:
            return float(row[1]), float(row[6])
        except (IndexError, ValueError):
            continue
    raise RuntimeError(f"no result from redis-benchmark: {out.stdout} {out.stderr}")


def measure(name: str, cold: int, reads: int, dels: int) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix=f"churn-{name}-") as tmp:
        proc, port = start(name, tmp)
        try:
            t0 = time.perf_counter()
            fill(port, cold)
            fill_s = time.perf_counter() - t0
            alone = read_run(port, cold, reads)
            ctx = multiprocessing.get_context("spawn")
            stop, out = ctx.Event(), ctx.Queue()
            churner = ctx.Process(target=_churn, args=(port, stop, out))
            churner.start()
            time.sleep(2.0)  # let the tombstones (or point deletes) pile up first
            churned = read_run(port, cold, reads)
            stop.set()
            churn_rate = out.get(timeout=60)
            churner.join()
            forward, backward = deletes(port, dels, False), deletes(port, dels, True)
        finally:
            proc.terminate()
            proc.wait()
    return {"fill_s": fill_s, "alone_rps": alone[0], "alone_p99": alone[1],
            "churn_rps": churned[0], "churn_p99": churned[1], "churn_cmds": churn_rate,
            "del_forward": forward, "del_reverse": backward}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cold", type=int, default=400_000, help="hashes read at random")
    ap.add_argument("--reads", type=int, default=200_000, help="HGETs per measurement")
    ap.add_argument("--deletes", type=int, default=20_000, help="hashes per delete order")
    ap.add_argument("--no-redis", action="store_true")
    args = ap.parse_args(argv)
    names = ["ledis"] + ([] if args.no_redis else ["redis"])
    results = {name: measure(name, args.cold, args.reads, args.deletes) for name in names}
    print("| server | HGET alone req/s | p99 ms | HGET with churn req/s | p99 ms "
          "| churn commands/s |")
    print("|---|---|---|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['alone_rps']:,.0f} | {r['alone_p99']:.3f} | "
              f"{r['churn_rps']:,.0f} | {r['churn_p99']:.3f} | {r['churn_cmds']:,.0f} |")
    print()
    print("| server | DEL in creation order /s | DEL in reverse order /s |")
    print("|---|---|---|")
    for name, r in results.items():
        print(f"| {name} | {r['del_forward']:,.0f} | {r['del_reverse']:,.0f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
