"""In-process throughput of the embedded API (``ledis.open``): ``db.execute`` per call and in
``db.batch()``.

    python benchmarks/embedded_bench.py                    # 200k calls per row, 100k keys
    python benchmarks/embedded_bench.py -n 500000 --rounds 3
    python benchmarks/embedded_bench.py --compare /work/main   # the same rows from another tree
    python benchmarks/embedded_bench.py --profile set      # cProfile of the SET loop

One process, one thread, a RocksDB store in a temp dir (``appendfsync everysec``, the
default). Rows:

* ``execute SET`` / ``execute GET``: ``db.execute("SET", key, value)`` with random keys out of
  ``--keyspace``; each call commits before it returns (docs/embedding.md, "Durability");
* ``batch SET`` / ``batch GET``: the same calls inside ``with db.batch():`` (one commit per
  ``commit_every`` calls and at the end), when the tree has it;
* ``set()``: the generated typed method, ``db.set(key, value)``;
* ``execute EVALSHA``: ``EVALSHA`` of ``return redis.call('SET', KEYS[1], ARGV[1])``.

Keys and values are pre-built bytes, so the figures are the engine's cost per call, not the
caller's string formatting. Each row is printed twice: calls per second of wall time, and
calls per second of the calling thread's CPU time (``(CPU)``: what the calls cost when the
thread is not waiting for a core; RocksDB's own flush and compaction threads excluded), which
moves far less on a shared machine. Best of ``--rounds`` per row; compare rows of one run
(``--compare`` alternates the trees per round).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SET_SCRIPT = b"return redis.call('SET', KEYS[1], ARGV[1])"


def measure(n: int, keyspace: int, profile: str | None) -> dict[str, float]:
    import ledis

    rng = random.Random(1)
    keys = [b"key:%d" % rng.randrange(keyspace) for _ in range(n)]
    value = b"xxx"
    rows: dict[str, float] = {}

    def rate(name: str, loop: object) -> None:
        start, cpu = time.perf_counter(), time.thread_time()
        loop()  # type: ignore[operator]
        rows[name] = n / (time.perf_counter() - start)
        rows[name + " (CPU)"] = n / (time.thread_time() - cpu)

    with ledis.open(memory=True) as db:
        execute = db.execute

        def set_loop() -> None:
            for key in keys:
                execute(b"SET", key, value)

        def get_loop() -> None:
            for key in keys:
                execute(b"GET", key)

        def typed_loop() -> None:
            set_ = db.set
            for key in keys:
                set_(key, value)

        sha = db.script_load(SET_SCRIPT)

        def evalsha_loop() -> None:
            for key in keys:
                execute(b"EVALSHA", sha, 1, key, value)

        if profile:
            import cProfile
            import pstats

            def batch_set_loop() -> None:
                with db.batch():
                    set_loop()

            loop = {"set": set_loop, "get": get_loop, "batch-set": batch_set_loop}[profile]
            cProfile.runctx("loop()", globals(), {"loop": loop}, "/tmp/embedded_bench.prof")
            pstats.Stats("/tmp/embedded_bench.prof").sort_stats("tottime").print_stats(20)
            return rows
        rate("execute SET", set_loop)
        rate("execute GET", get_loop)
        if hasattr(db, "batch"):
            def batch_set() -> None:
                with db.batch():
                    set_loop()

            def batch_get() -> None:
                with db.batch():
                    get_loop()

            rate("batch SET", batch_set)
            rate("batch GET", batch_get)
        rate("set()", typed_loop)
        rate("execute EVALSHA", evalsha_loop)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-n", type=int, default=200_000, help="calls per row")
    parser.add_argument("--keyspace", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--compare", type=Path, help="another source tree, run alternately")
    parser.add_argument("--profile", choices=("set", "get", "batch-set"))
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)  # one round, as JSON
    args = parser.parse_args()
    if args.tree or args.profile:
        sys.path.insert(0, str(args.tree or ROOT))
        rows = measure(args.n, args.keyspace, args.profile)
        if args.tree:
            print(json.dumps(rows))
        return
    trees = [("this tree", ROOT)]
    if args.compare:
        trees.append((str(args.compare), args.compare.resolve()))
    best: dict[str, dict[str, float]] = {label: {} for label, _ in trees}
    for round_ in range(args.rounds):
        for label, tree in trees if round_ % 2 == 0 else trees[::-1]:
            out = subprocess.run(
                [sys.executable, __file__, "--tree", str(tree), "-n", str(args.n),
                 "--keyspace", str(args.keyspace)],
                capture_output=True, text=True, check=True, cwd=str(tree),
                env=dict(os.environ, PYTHONPATH=str(tree))).stdout
            for name, value in json.loads(out.splitlines()[-1]).items():
                best[label][name] = max(value, best[label].get(name, 0.0))
    names = list(dict.fromkeys(name for rows in best.values() for name in rows))
    print(f"{args.n:,} calls per row, {args.keyspace:,} keys, best of {args.rounds}, "
          f"loadavg {os.getloadavg()[0]:.1f}")
    print()
    print("| calls | " + " | ".join(label for label, _ in trees) + " |")
    print("|---|" + "---|" * len(trees))
    for name in names:
        cells = [f"{best[label][name]:,.0f}/s" if name in best[label] else "-"
                 for label, _ in trees]
        print(f"| {name} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
