"""Side-by-side benchmark: ledis vs redis-server, same redis-benchmark workloads, alternating.

    python benchmarks/bench.py                      # every workload, -P 1 and -P 16
    python benchmarks/bench.py --only set,get -n 50000 --rounds 1
    python benchmarks/bench.py --random 100000      # random keys out of 100k (-r 100000)

Starts ledis (``--appendfsync everysec``) and ``redis-server --appendonly yes --appendfsync
everysec`` on temp dirs, runs each workload against each server in alternation (``rounds``
times, best run kept), and prints ops/s and the ratio ledis/Redis per workload as a Markdown
table (also written to ``benchmarks/results/latest.md``). Servers and client are pinned to
different cores with ``taskset`` when it is available, as in the reference measurements.

By default the workloads are the issues' plain ``redis-benchmark -q -c 50``: every test hits
one key (``key:__rand_int__`` stays literal without ``-r``). ``--random N`` adds ``-r N``, so
each request picks one of N keys; both tables are in docs/PERFORMANCE.md.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, wait_port  # noqa: E402

SET_SCRIPT = "return redis.call('set',KEYS[1],ARGV[1])"
TEN_CALLS = ("for i=1,10 do redis.call('incr',KEYS[1]) end return redis.call('get',KEYS[1])")


@dataclass
class Workload:
    name: str
    args: list[str]  # redis-benchmark arguments after the common ones
    setup: list[list[str]] | None = None  # commands to run on the server first (redis-cli argv)
    pipelines: tuple[int, ...] = (1, 16)


def workloads() -> list[Workload]:
    def t(name: str, test: str) -> Workload:
        return Workload(name, ["-t", test])

    return [
        t("SET", "set"), t("GET", "get"), t("INCR", "incr"), t("MSET", "mset"),
        t("HSET", "hset"), t("LPUSH", "lpush"), t("RPOP", "rpop"), t("SADD", "sadd"),
        t("ZADD", "zadd"), t("LRANGE_100", "lrange_100"),
        Workload("EVAL_SET", ["eval", SET_SCRIPT, "1", "key:__rand_int__", "v"]),
        Workload("EVALSHA_SET", ["evalsha", "SHA_SET", "1", "key:__rand_int__", "v"],
                 setup=[["script", "load", SET_SCRIPT]]),
        Workload("EVAL_10_CALLS", ["eval", TEN_CALLS, "1", "counter:__rand_int__"]),
    ]


def taskset(core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


class Servers:
    def __init__(self) -> None:
        self.tmp = tempfile.mkdtemp(prefix="ledis-bench-")
        self.ledis_port = free_port()
        self.redis_port = free_port()
        self.procs: list[subprocess.Popen] = []

    def start(self) -> None:
        ledis = subprocess.Popen(
            [*taskset(0), sys.executable, "-m", "ledis", "server", "--port", str(self.ledis_port),
             "--dir", os.path.join(self.tmp, "ledis"), "--appendfsync", "everysec",
             "--loglevel", "warning"],
            cwd=str(ROOT),
        )
        redis = subprocess.Popen(
            [*taskset(0), "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
             "--dir", os.path.join(self.tmp), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        self.procs = [ledis, redis]
        wait_port(self.ledis_port, ledis)
        wait_port(self.redis_port, redis)

    def stop(self) -> None:
        for p in self.procs:
            p.terminate()
        for p in self.procs:
            try:
                p.wait(20)
            except subprocess.TimeoutExpired:
                p.kill()
        shutil.rmtree(self.tmp, ignore_errors=True)


def cli(port: int, *argv: str) -> str:
    out = subprocess.run(["redis-cli", "-p", str(port), *argv], capture_output=True, text=True,
                         timeout=60)
    return out.stdout.strip()


def run_one(port: int, w: Workload, pipeline: int, n: int, clients: int, keyspace: int = 0
            ) -> float:
    args = list(w.args)
    if w.setup:
        for cmd in w.setup:
            sha = cli(port, *cmd)
            args = [sha if a == "SHA_SET" else a for a in args]
    cmd = [*taskset(1), "redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(n),
           "-P", str(pipeline), *(["-r", str(keyspace)] if keyspace else []), "--csv", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    rows = list(csv.reader(io.StringIO(out.stdout)))
    for row in rows[1:]:
        try:
            return float(row[1])
        except (IndexError, ValueError):
            continue
    raise RuntimeError(f"no result from redis-benchmark for {w.name}: {out.stdout} {out.stderr}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200_000, help="requests per run (-P 16 runs use 4x)")
    ap.add_argument("-c", type=int, default=50, help="clients")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (best kept)")
    ap.add_argument("--only", default="", help="comma-separated workload names (case-insensitive)")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--random", type=int, default=0, metavar="N",
                    help="redis-benchmark -r N: random keys out of N (default 0: the plain "
                         "`redis-benchmark -q -c 50` of the issues, one key per test)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.md"))
    args = ap.parse_args(argv)
    if not shutil.which("redis-benchmark") or not shutil.which("redis-server"):
        print("needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)")
        return 2
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    pipelines = tuple(int(p) for p in args.pipelines.split(","))
    chosen = [w for w in workloads() if not only or w.name.upper() in only]
    servers = Servers()
    servers.start()
    results: list[tuple[str, int, float, float]] = []
    try:
        for w in chosen:
            for p in pipelines:
                if p not in w.pipelines:
                    continue
                n = args.n * (4 if p > 1 else 1)
                best = {"ledis": 0.0, "redis": 0.0}
                for _ in range(args.rounds):
                    for name, port in (("ledis", servers.ledis_port),
                                       ("redis", servers.redis_port)):
                        best[name] = max(best[name], run_one(port, w, p, n, args.c, args.random))
                ratio = best["ledis"] / best["redis"] if best["redis"] else 0.0
                results.append((w.name, p, best["ledis"], best["redis"]))
                print(f"{w.name:<14} -P {p:<3} ledis {best['ledis']:>11,.0f}  "
                      f"redis {best['redis']:>11,.0f}  ratio {ratio:.2f}", flush=True)
    finally:
        servers.stop()
    lines = [
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; "
        f"redis-benchmark -c {args.c} -n {args.n} (x4 for -P 16)"
        f"{f', -r {args.random}' if args.random else ', one key per test (no -r)'}, "
        f"best of {args.rounds} alternating rounds; Redis with appendonly yes / everysec.",
        "",
        "| workload | pipeline | ledis ops/s | Redis ops/s | ledis/Redis |",
        "|---|---|---|---|---|",
    ]
    for name, p, lo, ro in results:
        lines.append(f"| {name} | {p} | {lo:,.0f} | {ro:,.0f} | {lo / ro if ro else 0:.2f} |")
    text = "\n".join(lines) + "\n"
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(text)
    print()
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
