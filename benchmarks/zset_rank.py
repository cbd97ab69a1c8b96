"""ZADD and rank ops on a big zset: two ledis trees side by side (issue #19, the rank index).

    python benchmarks/zset_rank.py --tree main=/work/main --tree rank=.       # compare two trees
    python benchmarks/zset_rank.py --tree rank=. --members 1000000 --rounds 1

For each tree a server is started (``PYTHONPATH=<tree>``, its own temp dir, ``--appendfsync
everysec``), a zset ``bigz`` is loaded with ``--members`` members (ZADD of 1,000 members per
command, pipelined), then in alternation between the trees (``--rounds``, best run kept):

* ``zadd bigz __rand_int__ member:__rand_int__`` (-r 1000000: mostly inserts into the big zset),
* ``zadd z:__rand_int__ __rand_int__ m:__rand_int__`` (-r 100000: many small zsets),
* ``zrank bigz <member of the middle>`` and ``zrange bigz <mid> <mid+9>``,

with ``redis-benchmark -c 50 -P 16`` (ZRANK/ZRANGE: -P 1), client pinned to core 1 and
servers to core 0 with ``taskset`` when there is one. Prints requests/s per tree.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, wait_port  # noqa: E402


def taskset(core: int) -> list[str]:
    if shutil.which("taskset") and (os.cpu_count() or 1) >= 2:
        return ["taskset", "-c", str(core)]
    return []


def load(port: int, members: int) -> None:
    """ZADD bigz with ``members`` members, 1,000 per command, as one redis-cli --pipe stream."""
    def command(*argv: bytes) -> bytes:
        return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)

    chunks = []
    for base in range(0, members, 1000):
        argv = [b"zadd", b"bigz"]
        for i in range(base, min(base + 1000, members)):
            argv += [b"%d" % (i * 7919 % members), b"member:%d" % i]
        chunks.append(command(*argv))
    out = subprocess.run(["redis-cli", "-p", str(port), "--pipe"], input=b"".join(chunks),
                         capture_output=True, timeout=3600)
    if out.returncode:
        raise RuntimeError(f"loading failed: {out.stdout[-300:]!r} {out.stderr[-300:]!r}")


def bench(port: int, args: list[str], pipeline: int, n: int, keyspace: int) -> float:
    cmd = [*taskset(1), "redis-benchmark", "-p", str(port), "-c", "50", "-n", str(n),
           "-P", str(pipeline), *(["-r", str(keyspace)] if keyspace else []), "--csv", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    for row in list(csv.reader(io.StringIO(out.stdout)))[1:]:
        try:
            return float(row[1])
        except (IndexError, ValueError):
            continue
    raise RuntimeError(f"no result: {out.stdout} {out.stderr}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tree", action="append", required=True, help="NAME=PATH of a ledis tree")
    ap.add_argument("--members", type=int, default=86_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", type=int, default=200_000, help="requests per ZADD run")
    ap.add_argument("--rank-n", type=int, default=1000, help="requests per ZRANK/ZRANGE run")
    opts = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ledis-zrank-")
    servers: dict[str, tuple[int, subprocess.Popen]] = {}
    try:
        for spec in opts.tree:
            name, path = spec.split("=", 1)
            port = free_port()
            env = dict(os.environ, PYTHONPATH=str(Path(path).resolve()))
            proc = subprocess.Popen(
                [*taskset(0), sys.executable, "-m", "ledis", "server", "--port", str(port),
                 "--dir", os.path.join(tmp, name), "--loglevel", "warning"],
                cwd=path, env=env)
            servers[name] = (port, proc)
            wait_port(port, proc)
            load(port, opts.members)
        mid = opts.members // 2
        middle = f"member:{next(i for i in range(opts.members) if i * 7919 % opts.members == mid)}"
        work = [
            ("ZADD bigz -P 16", ["zadd", "bigz", "__rand_int__", "member:__rand_int__"], 16,
             opts.n, 1_000_000),
            ("ZADD z:rand -P 16", ["zadd", "z:__rand_int__", "__rand_int__", "m:__rand_int__"],
             16, opts.n, 100_000),
            ("ZRANK bigz mid -P 1", ["zrank", "bigz", middle], 1, opts.rank_n, 0),
            ("ZRANGE bigz mid+10 -P 1", ["zrange", "bigz", str(mid), str(mid + 9)], 1,
             opts.rank_n, 0),
        ]
        best: dict[tuple[str, str], float] = {}
        for _ in range(opts.rounds):
            for label, args, pipeline, n, keyspace in work:
                for name, (port, _) in servers.items():
                    rps = bench(port, args, pipeline, n, keyspace)
                    best[label, name] = max(best.get((label, name), 0.0), rps)
        names = list(servers)
        print("| workload | " + " | ".join(names) + " |")
        print("|---|" + "---|" * len(names))
        for label, *_ in work:
            print(f"| {label} | " + " | ".join(f"{best[label, n]:,.0f}" for n in names) + " |")
    finally:
        for _, proc in servers.values():
            proc.terminate()
        for _, proc in servers.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
