"""In-process CPU per command on the server's hot path, no sockets.

    python benchmarks/hotpath.py                    # SET GET INCR PING EVALSHA EVAL, -P 1 and 16
    python benchmarks/hotpath.py set incr -P 16 --random
    python benchmarks/hotpath.py evalsha --profile  # cProfile of the same loop
    python benchmarks/hotpath.py ratelimit --random # EVALSHA of benchmarks/ratelimit_bucket.lua
    python benchmarks/hotpath.py multi -P 1         # MULTI + 10 SET + EXEC: us per transaction
    python benchmarks/hotpath.py sadd lpush rpop -P 16 --random   # redis-benchmark's shapes
    python benchmarks/hotpath.py hset zadd lrange_100 -P 16 --random
    python benchmarks/hotpath.py zadd -P 16 --random --full     # every member there: moves
    python benchmarks/hotpath.py get -P 1 --rounds 5 --cpu   # best of 5, main-thread CPU time

Builds a real Core on a temp RocksDB and 50 ``Connection`` objects whose transports only count
writes, then plays event-loop iterations by hand: every connection receives one read of P
pipelined requests (``data_received``: parse, dispatch, encode), then ``Server.flush`` does
the group commit and "writes" the replies. What it prints is the Python + RocksDB cost per
command that the live server pays on top of the kernel's socket work; it moves with code
changes far more steadily than ``bench.py`` (see docs/PERFORMANCE.md for the figures).
Pin it to a core (``taskset -c 0``) for steady numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import hiredis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ledis.config import Config  # noqa: E402
from ledis.server.app import Server  # noqa: E402
from ledis.server.compose import build, load_commands  # noqa: E402
from ledis.server.connection import Connection  # noqa: E402

SET_SCRIPT = b"return redis.call('set',KEYS[1],ARGV[1])"
BUCKET_SCRIPT = (Path(__file__).resolve().parent / "ratelimit_bucket.lua").read_bytes()
CONNECTIONS = 50
READS = 50  # distinct pre-built reads per connection with one key, replayed in a cycle


class CountingTransport:
    def __init__(self) -> None:
        self.writes = 0

    def write(self, data: bytes) -> None:
        self.writes += 1

    def is_closing(self) -> bool:
        return False

    def get_extra_info(self, name: str) -> tuple[str, int]:
        return ("127.0.0.1", 0)

    def close(self) -> None:
        pass


def requests(kind: str, key: Callable[[], bytes], sha: bytes) -> list[tuple[bytes, ...]]:
    """The requests of one unit of ``kind``: one command, or for ``multi`` a transaction of
    10 SETs (MULTI, 10 x SET, EXEC: the unit is then one transaction, 12 commands)."""
    if kind == "multi":
        return [(b"MULTI",), *((b"SET", key(), b"xxx") for _ in range(10)), (b"EXEC",)]
    if kind == "zadd":  # redis-benchmark draws the score and the member independently
        return [(b"ZADD", b"myzset", b"%d" % int(key()[4:]), b"element:" + key())]
    return [request(kind, key(), sha)]


def request(kind: str, key: bytes, sha: bytes) -> tuple[bytes, ...]:
    # SADD, LPUSH and RPOP as redis-benchmark sends them: one set whose members are the
    # random part, one list (RPOP pops what a setup LPUSH put there, see ``fill``).
    return {
        "set": (b"SET", key, b"xxx"),
        "get": (b"GET", key),
        "hgetall": (b"HGETALL", b"small-hash"),  # 10 fields (made before the run)
        "incr": (b"INCR", key),
        "sadd": (b"SADD", b"myset", b"element:" + key),
        "hset": (b"HSET", b"myhash", b"element:" + key, b"xxx"),
        "lrange_100": (b"LRANGE", b"mylist", b"0", b"99"),
        "lpush": (b"LPUSH", b"mylist", b"xxx"),
        "rpop": (b"RPOP", b"mylist"),
        "ping": (b"PING",),
        "eval": (b"EVAL", SET_SCRIPT, b"1", key, b"xxx"),
        "evalsha": (b"EVALSHA", sha, b"1", key, b"xxx"),
        "ratelimit": (b"EVALSHA", sha, b"1", b"bucket:" + key, b"100", b"10"),
    }[kind]


# --full: the collection of these kinds made with all 100k members first (bench.py runs every
# workload several times on one server, so its later ZADD runs move members that are there)
FULL = {
    "zadd": (b"ZADD", (b"myzset", lambda i: (b"%d" % i, b"element:key:%012d" % i))),
    "sadd": (b"SADD", (b"myset", lambda i: (b"element:key:%012d" % i,))),
    "hset": (b"HSET", (b"myhash", lambda i: (b"element:key:%012d" % i, b"xxx"))),
}


def measure(kind: str, pipeline: int, iterations: int, random_keys: bool, profile: bool,
            clock: Callable[[], float] = time.perf_counter, prebuilt: int = 0,
            full: bool = False) -> float:
    with tempfile.TemporaryDirectory(prefix="ledis-hotpath-") as tmp:
        config = Config()
        config.dir = tmp
        config.port = 0
        core = build(config)
        server = Server(core)
        server.loop = asyncio.new_event_loop()
        conns = []
        for _ in range(CONNECTIONS):
            conn = Connection(server)
            conn.connection_made(CountingTransport())  # type: ignore[arg-type]
            conns.append(conn)
        body = BUCKET_SCRIPT if kind == "ratelimit" else SET_SCRIPT
        sha = core.dispatch(conns[0].ctx, [b"SCRIPT", b"LOAD", body])
        core.dispatch(conns[0].ctx, [b"HSET", b"small-hash",
                                     *(b"%s%d" % (w, i) for i in range(10) for w in (b"f", b"v"))])
        rnd = random.Random(1)

        def key() -> bytes:
            return b"key:%012d" % (rnd.randrange(100_000) if random_keys else 0)

        warm = max(1, iterations // 10)
        # With random keys every iteration gets reads of its own (never replayed: a replayed
        # SADD or ZADD finds its member already there and measures a no-op); one key needs
        # only READS distinct reads, replayed in a cycle.
        # ``prebuilt``: iterations of requests to build at least (see --build)
        count = max(warm + iterations * (1 + profile), prebuilt) if random_keys else READS
        reads = [[b"".join(hiredis.pack_command(r) for _ in range(pipeline)
                           for r in requests(kind, key, sha)) for _ in conns]
                 for _ in range(count)]
        cursor = [0]

        def run(n: int) -> None:
            for i in range(cursor[0], cursor[0] + n):
                for conn, data in zip(conns, reads[i % count], strict=True):
                    conn.data_received(data)
                server.flush()
            cursor[0] += n

        if kind == "lrange_100":  # redis-benchmark's list of 600 elements
            core.dispatch(conns[0].ctx, [b"LPUSH", b"mylist", *[b"xxx"] * 600])
            server.flush()
        if kind == "rpop":  # something to pop in every measured call (warm-up included)
            total = (iterations * (1 + profile) + max(1, iterations // 10)) * CONNECTIONS * pipeline
            # at least 40k, so callgrind runs of 8k and 24k commands fill alike (that cost
            # cancels out in their difference)
            for _ in range(0, max(total, 40_000), 1000):
                core.dispatch(conns[0].ctx, [b"LPUSH", b"mylist", *[b"xxx"] * 1000])
            server.flush()
        if full and kind in FULL:  # every member already there: each request moves or rewrites
            name, head = FULL[kind]
            for start in range(0, 100_000, 1000):
                core.dispatch(conns[0].ctx, [name, head[0], *(x for i in range(start, start + 1000)
                                                          for x in head[1](i))])
                server.flush()
        run(warm)  # warm up: cache, memtable, Lua
        if profile:
            import cProfile
            import pstats

            prof = cProfile.Profile()
            prof.enable()
            run(iterations)
            prof.disable()
            pstats.Stats(prof).sort_stats("tottime").print_stats(20)
        start = clock()
        run(iterations)
        elapsed = clock() - start
        core.close()
        server.loop.close()
    return elapsed / (iterations * CONNECTIONS * pipeline) * 1e6


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kinds", nargs="*", default=["set", "get", "incr", "ping", "evalsha", "eval"])
    ap.add_argument("-P", dest="pipelines", type=int, action="append",
                    help="pipeline depth (repeatable; default 1 and 16)")
    ap.add_argument("--commands", type=int, default=400_000, help="commands per measurement")
    ap.add_argument("--random", action="store_true", help="keys out of 100k (default: one key)")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure each row this many times (a fresh store each) and keep the best")
    ap.add_argument("--cpu", action="store_true",
                    help="time the main thread's CPU (time.thread_time) instead of the wall "
                         "clock: steadier on a shared machine, blind to waits and to RocksDB's "
                         "background threads")
    ap.add_argument("--build", type=int, default=0, metavar="COMMANDS",
                    help="with --random, build the requests of at least this many commands "
                         "(more than are run): callgrind runs of 8000 and 24000 commands that "
                         "both say --build 30000 build the same requests, so their difference "
                         "is the server's cost alone (docs/PERFORMANCE.md, session 16)")
    ap.add_argument("--full", action="store_true",
                    help="zadd, sadd, hset: the collection holds all 100k members before the "
                         "run (bench.py's later runs), so each request finds its member")
    args = ap.parse_args(argv)
    clock = time.thread_time if args.cpu else time.perf_counter
    load_commands()
    for kind in args.kinds:
        for p in args.pipelines or [1, 16]:
            iterations = max(10, args.commands // (CONNECTIONS * p))
            prebuilt = args.build // (CONNECTIONS * p)
            usec = min(measure(kind.lower(), p, iterations, args.random, args.profile, clock,
                               prebuilt, args.full) for _ in range(max(1, args.rounds)))
            unit = "transaction" if kind.lower() == "multi" else "command"
            print(f"{kind.upper():<8} -P {p:<3} {usec:6.2f} us/{unit} "
                  f"({'random keys' if args.random else 'one key'}"
                  f"{', CPU' if args.cpu else ''}{', full' if args.full else ''}"
                  f"{f', best of {args.rounds}' if args.rounds > 1 else ''})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
