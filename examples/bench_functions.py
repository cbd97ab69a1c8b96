"""Benchmark rows for stored Lua logic: FCALL of stdlib functions beside an EVALSHA running
the same Lua body, with redis-benchmark at -P 1.

    python examples/bench_functions.py --port 6380 [-n 20000] [-c 20]

Needs redis-benchmark. Prints one row per (function, FCALL|EVALSHA) with ops/s and p50.
"""

from __future__ import annotations

import argparse
import re
import subprocess

import redis

from ledis.resources import STDLIB_DIR

CASES = (  # library, function, Lua local of the callback, FCALL arguments after the name
    ("ratelimit", "rl_bucket", "bucket", ["1", "bench:rl", "1000000000", "1000000000"]),
    ("lock", "lock_acquire", "acquire", ["1", "bench:lock", "me", "100000"]),
    ("lock", "lock_release", "release", ["1", "bench:lock", "other", "1"]),
)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6380)
    parser.add_argument("-n", type=int, default=20000)
    parser.add_argument("-c", type=int, default=20)
    args = parser.parse_args()
    r = redis.Redis(port=args.port)
    print("| command | -P 1 ops/s | p50 ms |\n|---|---|---|")
    for lib, fn, local, fargs in CASES:
        src = (STDLIB_DIR / f"{lib}.lua").read_text()
        r.function_load(src, replace=True)
        # the same body as a plain script: library code minus registrations, then a call
        body = (src.split("\n", 1)[1].split("redis.register_function")[0]
                + f"\nreturn {local}(KEYS, ARGV)\n")
        sha = r.script_load(body)
        for kind, cmd in (("FCALL", ["FCALL", fn, *fargs]), ("EVALSHA", ["EVALSHA", sha, *fargs])):
            out = subprocess.run(
                ["redis-benchmark", "-p", str(args.port), "-n", str(args.n), "-c", str(args.c),
                 "-P", "1", "-q", *cmd], capture_output=True, text=True).stdout
            m = re.search(r"([\d.]+) requests per second, p50=([\d.]+)", out.replace("\r", "\n"))
            ops, p50 = m.groups() if m else ("?", "?")
            print(f"| {kind} {fn} | {ops} | {p50} |", flush=True)


if __name__ == "__main__":
    main()
