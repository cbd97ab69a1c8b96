"""RENAME / MOVE / COPY of a big hash: ledis (this tree), ledis before #19, redis-server.

    python benchmarks/rename_bench.py                       # 100k fields, this tree + redis
    python benchmarks/rename_bench.py --before /work/main   # + a source tree of older code

Each server gets one hash of ``--fields`` fields (HSET in batches of 1000), then each
operation runs ``--repeat`` times and the median wall time of one command (sent until its
reply is read, so ledis's group commit is inside) is reported:

- ``rename``: RENAME h h2, then back (each counted);
- ``move``: MOVE h 1, then MOVE back from db 1 (each counted);
- ``copy``: COPY h h3 REPLACE (duplicates every field on every server).

Since #19 a collection's sub-keys are addressed by ``db | version`` instead of its name, so
RENAME within a db moves one metadata record; since format 3 MOVE too (the sub-keys stay
under the collection's home db); COPY still writes every field. The
"before" server (``--before``: a source tree, e.g. a checkout of the commit before #19) shows
the O(n) RENAME it replaced. All servers run with ``appendfsync everysec`` (Redis with
``--appendonly yes``); ratios are ledis / redis-server in the same run.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.stall_probe import Client  # noqa: E402
from tests.helpers import free_port, wait_port  # noqa: E402

OPERATIONS = ("rename", "move", "copy")


def start(name: str, tmp: str, tree: Path | None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    if tree is None:
        argv = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "yes", "--appendfsync", "everysec", "--dir", tmp,
                "--loglevel", "warning"]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL)
    else:
        env = dict(os.environ, PYTHONPATH=str(tree))
        argv = [sys.executable, "-m", "ledis", "server", "--port", str(port), "--dir",
                os.path.join(tmp, name), "--appendfsync", "everysec", "--loglevel", "warning"]
        proc = subprocess.Popen(argv, cwd=str(tree), env=env)
    wait_port(port, proc)
    return proc, port


def timed(client: Client, *argv: bytes) -> float:
    started = time.perf_counter()
    client.call(*argv)
    return (time.perf_counter() - started) * 1000


def measure(port: int, fields: int, repeat: int) -> dict[str, float]:
    c = Client(port)
    try:
        c.call(b"FLUSHALL")
        for start_at in range(0, fields, 1000):
            c.call(b"HSET", b"h", *[x for i in range(start_at, min(fields, start_at + 1000))
                                    for x in (b"field:%d" % i, b"value:%d" % i)])
        results: dict[str, list[float]] = {op: [] for op in OPERATIONS}
        for _ in range(repeat):
            results["rename"].append(timed(c, b"RENAME", b"h", b"h2"))
            results["rename"].append(timed(c, b"RENAME", b"h2", b"h"))
            results["move"].append(timed(c, b"MOVE", b"h", b"1"))
            c.call(b"SELECT", b"1")
            results["move"].append(timed(c, b"MOVE", b"h", b"0"))
            c.call(b"SELECT", b"0")
            results["copy"].append(timed(c, b"COPY", b"h", b"h3", b"REPLACE"))
        if c.call(b"HLEN", b"h") != fields:
            raise RuntimeError("the hash lost fields")
        return {op: statistics.median(v) for op, v in results.items()}
    finally:
        c.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--fields", type=int, default=100_000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--before", type=Path, help="a source tree of ledis before #19")
    ap.add_argument("--no-redis", action="store_true")
    args = ap.parse_args(argv)
    servers: list[tuple[str, Path | None]] = [("ledis", ROOT)]
    if args.before is not None:
        servers.append(("ledis-before", args.before.resolve()))
    if not args.no_redis and shutil.which("redis-server"):
        servers.append(("redis", None))
    tmp = tempfile.mkdtemp(prefix="ledis-rename-bench-")
    rows: dict[str, dict[str, float]] = {}
    try:
        for name, tree in servers:  # one server at a time: the machine is small
            proc, port = start(name, tmp, tree)
            try:
                rows[name] = measure(port, args.fields, args.repeat)
                print(name, {k: round(v, 2) for k, v in rows[name].items()}, file=sys.stderr)
            finally:
                proc.terminate()
                try:
                    proc.wait(20)
                except subprocess.TimeoutExpired:
                    proc.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n{args.fields:,}-field hash, median of {args.repeat * 2 if args.repeat else 0} "
          f"(copy: {args.repeat}) ({time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} cores)\n")
    print("| operation | " + " | ".join(f"{n} ms" for n in rows) +
          (" | ledis / redis |" if "redis" in rows else " |"))
    print("|---" * (len(rows) + 1 + ("redis" in rows)) + "|")
    for op in OPERATIONS:
        cells = " | ".join(f"{rows[n][op]:.2f}" for n in rows)
        ratio = f" | {rows['ledis'][op] / rows['redis'][op]:.2f}" if "redis" in rows else ""
        print(f"| {op} | {cells}{ratio} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
