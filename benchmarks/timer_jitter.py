"""Timer jitter: how late a 100 ms FUNCTION timer (redis.register_timer) starts, idle and while
the server is under load (redis-benchmark SET -P 16 from a subprocess).

    python benchmarks/timer_jitter.py [--seconds 5] [--period-ms 100] [--clients 50]

The timer's callback appends the server's TIME (us) to a list. Run k is due at
``t0 + k * period`` (timers keep their cadence from due times); its lateness is its start
minus that, less the smallest such difference (the first run's own lateness is unknown).
Results go to stdout as a Markdown table (copied into docs/timers.md).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from tests.helpers import LedisProcess  # noqa: E402

LIB = """#!lua name=jitter
redis.register_timer{name='j', every='%dms', callback=function()
  local t = redis.call('TIME')
  redis.call('RPUSH', 'starts', t[1] * 1000000 + t[2])
end}
"""


def lateness(starts: list[int], period_us: int) -> list[int]:
    t0 = starts[0]
    diffs = [t - t0 - round((t - t0) / period_us) * period_us for t in starts]
    base = min(diffs)
    return sorted(d - base for d in diffs)


def pct(values: list[int], p: float) -> float:
    return values[min(len(values) - 1, int(len(values) * p))] / 1000


def run(seconds: float, period_ms: int, clients: int, load: bool) -> tuple[int, list[int], float]:
    server = LedisProcess("--appendfsync", "no").start()
    bench = None
    try:
        c = server.client()
        c.function_load(LIB % period_ms)
        time.sleep(period_ms / 1000 * 1.5)
        if load:
            bench = subprocess.Popen(
                ["redis-benchmark", "-p", str(server.port), "-t", "set", "-n", "100000000",
                 "-c", str(clients), "-P", "16", "-r", "1000000", "-q"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(0.5)
        c.delete("starts")
        before = c.dbsize()
        started = time.time()
        time.sleep(seconds)
        starts = [int(x) for x in c.lrange("starts", 0, -1)]
        elapsed = time.time() - started
        writes = (c.dbsize() - before) / elapsed if load else 0.0
        return len(starts), lateness(starts, period_ms * 1000), writes
    finally:
        if bench is not None:
            bench.terminate()
            bench.wait()
        server.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--period-ms", type=int, default=100)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    print(f"| {args.period_ms} ms timer | runs in {args.seconds:g} s | p50 late ms | "
          "p99 late ms | max late ms |")
    print("|---|---|---|---|---|")
    for load in (False, True):
        n, late, _ = run(args.seconds, args.period_ms, args.clients, load)
        label = "idle" if not load else f"redis-benchmark SET -P 16 -c {args.clients}"
        print(f"| {label} | {n} (expected {int(args.seconds * 1000 / args.period_ms)}) | "
              f"{pct(late, 0.5):.2f} | {pct(late, 0.99):.2f} | {max(late) / 1000:.2f} |")


if __name__ == "__main__":
    main()
