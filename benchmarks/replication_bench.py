"""Replication benchmark: write throughput with 0 replicas, 1 async replica, 1 semi-sync replica
(redis-benchmark SET), the replica's lag under that load, and the full sync rate.

    python benchmarks/replication_bench.py [--requests 100000] [--clients 50]

Results go to stdout as a Markdown table (copied into docs/replication.md).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.helpers import LedisProcess  # noqa: E402


def bench(port: int, n: int, clients: int, pipeline: int) -> float:
    out = subprocess.run(
        ["redis-benchmark", "-p", str(port), "-t", "set", "-n", str(n), "-c", str(clients),
         "-P", str(pipeline), "-r", "1000000", "-q"],
        capture_output=True, text=True, check=True).stdout
    match = re.search(r"SET: ([0-9.]+) requests per second", out.replace("\r", "\n"))
    return float(match.group(1)) if match else 0.0


def seq(client, field: str) -> int:
    return int(client.info("replication")[field])


def run_mode(mode: str, n: int, clients: int, pipeline: int) -> tuple[float, float, int]:
    extra = ("--min-replica-acks", "1", "--semi-sync-timeout", "5000") if mode == "semi" else ()
    master = LedisProcess(*extra, "--appendfsync", "no").start()
    replica = None
    try:
        if mode != "none":
            replica = LedisProcess("--replicaof", f"127.0.0.1 {master.port}",
                                   "--appendfsync", "no").start()
            rc = replica.client()
            while rc.info("replication").get("master_link_status") != "up":
                time.sleep(0.05)
        lags: list[int] = []
        stop = threading.Event()

        def sample() -> None:
            mc = master.client()
            rc = replica.client()
            while not stop.is_set():
                m = seq(mc, "master_repl_offset")
                r = seq(rc, "slave_repl_offset")
                lags.append(max(0, m - r))
                time.sleep(0.05)

        sampler = threading.Thread(target=sample) if replica is not None else None
        if sampler:
            sampler.start()
        rps = bench(master.port, n, clients, pipeline)
        stop.set()
        if sampler:
            sampler.join()
        catchup = 0.0
        if replica is not None:
            t0 = time.time()
            target = seq(master.client(), "master_repl_offset")
            while seq(replica.client(), "slave_repl_offset") < target:
                time.sleep(0.01)
            catchup = time.time() - t0
        return rps, catchup, max(lags) if lags else 0
    finally:
        for proc in (replica, master):
            if proc is not None:
                proc.cleanup()


def full_sync_rate(keys: int) -> tuple[float, float, float]:
    master = LedisProcess("--appendfsync", "no").start()
    try:
        mc = master.client()
        pipe = mc.pipeline(transaction=False)
        value = b"x" * 100
        for i in range(keys):
            kind = i % 4
            if kind == 0:
                pipe.set(f"s:{i}", value)
            elif kind == 1:
                pipe.hset(f"h:{i}", mapping={"a": value, "b": value})
            elif kind == 2:
                pipe.rpush(f"l:{i}", value, value)
            else:
                pipe.zadd(f"z:{i}", {"a": 1, "b": 2})
            if i % 2000 == 1999:
                pipe.execute()
        pipe.execute()
        replica = LedisProcess("--replicaof", f"127.0.0.1 {master.port}",
                               "--appendfsync", "no")
        t0 = time.time()
        replica.start()
        try:
            rc = replica.client()
            while rc.info("replication").get("master_link_status") != "up":
                time.sleep(0.02)
            elapsed = time.time() - t0
            size = _dir_size(os.path.join(master.dir, "db"))
            return elapsed, keys / elapsed, size / elapsed / 1e6
        finally:
            replica.cleanup()
    finally:
        master.cleanup()


def _dir_size(path: str) -> int:
    total = 0
    for root, _dirs, files in os.walk(path):
        for name in files:
            if name.endswith(".sst") or name.endswith(".log"):
                total += os.path.getsize(os.path.join(root, name))
    return total


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--sync-keys", type=int, default=100_000)
    args = parser.parse_args()
    if shutil.which("redis-benchmark") is None:
        sys.exit("redis-benchmark not found")
    print("| mode | pipeline | SET/s | ratio to 0 replicas | max lag (records) "
          "| catch-up after load |")
    print("|---|---|---|---|---|---|")
    for pipeline in (1, 16):
        base = None
        for mode in ("none", "async", "semi"):
            rps, catchup, lag = run_mode(mode, args.requests, args.clients, pipeline)
            base = base or rps
            print(f"| {mode} | {pipeline} | {rps:,.0f} | {rps / base:.2f} | {lag} | "
                  f"{catchup * 1000:.0f} ms |", flush=True)
    elapsed, keys_s, mb_s = full_sync_rate(args.sync_keys)
    print(f"\nfull sync of {args.sync_keys} keys: {elapsed:.2f} s, {keys_s:,.0f} keys/s, "
          f"{mb_s:.1f} MB/s (store size on disk / time, incl. replica start-up)")


if __name__ == "__main__":
    main()
