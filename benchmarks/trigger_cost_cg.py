"""Cost of keyspace triggers on SET, in instructions (callgrind), in process.

    python benchmarks/trigger_cost_cg.py                      # the table (runs valgrind 8x)
    python benchmarks/trigger_cost_cg.py --n 5000 15000 --configs none other
    python benchmarks/trigger_cost_cg.py --one other 5000     # one run, no valgrind

Wall clock on the shared 2-core machine swings by 2x between identical runs, so the target of
issue #16 (a non-matching trigger costs at most 3% on SET -P 16) is measured in instructions:
each configuration runs under ``valgrind --tool=callgrind --separate-threads=yes
--toggle-collect=functools_reduce`` twice, with N1 and N2 SETs, and the cost per SET is
(instructions at N2 - at N1) / (N2 - N1) of the main thread (RocksDB's background threads are
left out; the main thread does the group commit and its WAL write). Only the SET loop is
counted (it runs inside ``functools.reduce``): start-up (imports, opening RocksDB, FUNCTION
LOAD) varies by ~1e6 instructions between identical runs, and the difference of two N removes
what is left (the first commits). ``PYTHONHASHSEED=0`` for every run.

A run (``--one CONFIG N``) opens the embedded API (``ledis.open``) on a temp directory, loads
the configuration's library, then dispatches N ``SET key:<i> xxx`` through ``Core.dispatch``
(what a RESP connection calls), committing every 16 commands, as the server's group commit
does for one ``-P 16`` read. The argument lists are built before the loop. Configurations:

* ``none``: no library;
* ``library``: a library with a function and no trigger (the same code path as ``none``);
* ``other``: one trigger on the prefix ``user:`` for ``set`` (never matches ``key:*``);
* ``glob``: one trigger on the glob ``user:*:name`` for ``set`` (never matches);
* ``match``: one trigger on ``key:`` for ``set`` whose callback does ``INCR fired``.

Results: docs/PERFORMANCE.md and docs/triggers.md. ``benchmarks/triggers_bench.py`` is the
wall-clock cross-check over the network (redis-benchmark).
"""

from __future__ import annotations

import argparse
import functools
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: this checkout's ledis first

TRIGGER = """#!lua name=bench_trigger
redis.register_trigger{{name='t', keys='{keys}', events={{'set'}},
  callback=function(event, key) redis.call('INCR', 'fired') end}}
"""
LIBRARIES: dict[str, str | None] = {
    "none": None,
    "library": "#!lua name=bench_function\n"
               "redis.register_function('f', function() return 1 end)\n",
    "other": TRIGGER.format(keys="user:"),
    "glob": TRIGGER.format(keys="user:*:name"),
    "match": TRIGGER.format(keys="key:"),
}
BATCH = 16  # commands per commit: one -P 16 read of one connection


def run_one(config: str, n: int) -> None:
    """Open a store, load ``config``'s library, run ``n`` SETs; prints the trigger count."""
    import ledis

    path = tempfile.mkdtemp(prefix="ledis-cg-")
    try:
        db = ledis.open(path)
        code = LIBRARIES[config]
        if code is not None:
            db.function_load(code)
        core = db.core
        ctx = core.new_context("bench")
        ctx.authenticated = True
        dispatch = core.dispatch
        commit = core.commit
        batches = [[[b"SET", b"key:%d" % i, b"xxx"] for i in range(start, min(n, start + BATCH))]
                   for start in range(0, n, BATCH)]

        def run_batch(_: None, batch: list[list[bytes]]) -> None:
            for argv in batch:
                dispatch(ctx, argv)
            commit()

        # functools.reduce runs the loop: instructions() has callgrind count only inside it
        functools.reduce(run_batch, batches, None)
        fired = db.get("fired")
        assert (fired is not None) == (config == "match"), fired
        db.close()
    finally:
        shutil.rmtree(path, ignore_errors=True)


def instructions(config: str, n: int, python: str) -> int:
    """Main-thread instructions of one ``--one config n`` run under callgrind."""
    out_dir = tempfile.mkdtemp(prefix="ledis-cg-out-")
    try:
        out = os.path.join(out_dir, "callgrind.out")
        subprocess.run(
            ["valgrind", "--tool=callgrind", "--separate-threads=yes",
             "--toggle-collect=functools_reduce",
             f"--callgrind-out-file={out}", python, __file__, "--one", config, str(n)],
            check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "PYTHONHASHSEED": "0"})
        main = [f for f in glob.glob(out + "*") if f.endswith("-01")]
        if len(main) != 1:
            raise RuntimeError(f"no main-thread profile among {os.listdir(out_dir)}")
        text = Path(main[0]).read_text(errors="replace")
        found = re.search(r"^(?:summary|totals): (\d+)", text, re.M)
        if found is None:
            raise RuntimeError(f"no totals in {main[0]}")
        return int(found.group(1))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs=2, default=[5000, 15000], metavar=("N1", "N2"))
    ap.add_argument("--configs", nargs="+", choices=list(LIBRARIES),
                    default=["none", "other", "glob", "match"])
    ap.add_argument("--python", default=sys.executable,
                    help="the interpreter valgrind runs (default: this one)")
    ap.add_argument("--jobs", type=int, default=2, help="valgrind runs at once")
    ap.add_argument("--one", nargs=2, metavar=("CONFIG", "N"),
                    help="one run without valgrind (what the valgrind runs execute)")
    args = ap.parse_args(argv)
    if args.one:
        run_one(args.one[0], int(args.one[1]))
        return 0
    n1, n2 = args.n
    per_set: dict[str, float] = {}
    # Instruction counts do not depend on what else runs: the runs may share the CPUs.
    with ThreadPoolExecutor(args.jobs) as pool:
        runs = {(config, n): pool.submit(instructions, config, n, args.python)
                for config in args.configs for n in (n1, n2)}
        for config in args.configs:
            low, high = runs[config, n1].result(), runs[config, n2].result()
            per_set[config] = (high - low) / (n2 - n1)
            print(f"{config:8} N={n1}: {low:,}  N={n2}: {high:,}  "
                  f"per SET: {per_set[config]:,.0f}", flush=True)
    base = per_set.get("none")
    print("\n| configuration | instructions per SET | vs no trigger |\n|---|---|---|")
    for config, value in per_set.items():
        ratio = f"{value / base:.3f}" if base else "-"
        print(f"| {config} | {value:,.0f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
