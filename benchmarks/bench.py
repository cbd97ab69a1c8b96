"""Side-by-side benchmark: ledis vs redis-server in the same run, issue #19's workloads.

    python benchmarks/bench.py                      # issue #19's table, -P 1 and -P 16
    python benchmarks/bench.py --markdown           # the same, as a Markdown table to paste
    python benchmarks/bench.py --quick --only SET   # smoke run (small -n, one round)
    python benchmarks/bench.py --only set,get -n 50000 --rounds 1
    python benchmarks/bench.py --all                # also MSET, RPOP, EVAL_SET, EVAL_10_CALLS
    python benchmarks/bench.py --random 0           # one key per test (the first stage's runs)
    python benchmarks/bench.py --compiled           # interpreted and compiled ledis, same run

Starts ledis (``--appendfsync everysec``) and ``redis-server --appendonly yes --appendfsync
everysec`` side by side on temp dirs and free ports, runs each workload against each server in
alternation (``--rounds`` times, best run kept), and prints per workload and pipeline depth
the requests/s of both, the ratio ledis/Redis and issue #19's target, then p99 latency at
-P 1 of both (target: within 2x of Redis). The Markdown form is also written to
``benchmarks/results/latest.md`` (``--out``). Servers and client are pinned to different
cores with ``taskset`` when it is available.

Keys are random by default, as issue #19 asks: ``redis-benchmark -c 50 -r 100000`` (each
request picks one of 100k keys). The two script workloads run EVALSHA of
``return redis.call('set',KEYS[1],ARGV[1])`` and of the token bucket in
``benchmarks/ratelimit_bucket.lua``. MULTI + 10 SET + EXEC cannot be expressed to
redis-benchmark (one command per request), so this script's own client sends it: 50
connections, one transaction in flight each (-P 1), random keys, pinned like redis-benchmark;
its figure is transactions/s and it loads the client core more than redis-benchmark does,
for both servers alike.

``--compiled`` starts a second ledis from the same tree with its compiled hot path (build it
first: ``LEDIS_COMPILE=1 pip install --no-deps -e .``, setup.py) while the first runs
with ``LEDIS_INTERPRETED=1``; both are measured in the same alternating rounds, and a third
table gives each mode's ratio to Redis (issue #19: "results for the compiled and the
interpreted mode").
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.helpers import free_port, wait_port  # noqa: E402

SET_SCRIPT = "return redis.call('set',KEYS[1],ARGV[1])"
TEN_CALLS = ("for i=1,10 do redis.call('incr',KEYS[1]) end return redis.call('get',KEYS[1])")
BUCKET_SCRIPT = (Path(__file__).resolve().parent / "ratelimit_bucket.lua").read_text()

# Issue #19's targets (ledis/Redis) per pipeline depth.
TYPES_TARGET = {1: 0.9, 16: 0.6}


@dataclass
class Workload:
    name: str
    args: list[str]  # redis-benchmark arguments after the common ones ("SHA" -> loaded script)
    script: str | None = None  # SCRIPT LOAD-ed first; its sha replaces "SHA" in args
    pipelines: tuple[int, ...] = (1, 16)
    targets: dict[int, float] = field(default_factory=dict)
    extra: bool = False  # not in the default run (only with --all or --only)


def workloads() -> list[Workload]:
    def t(name: str, test: str, targets: dict[int, float] | None = None,
          extra: bool = False) -> Workload:
        return Workload(name, ["-t", test], targets=targets or {}, extra=extra)

    return [
        t("SET", "set", TYPES_TARGET), t("GET", "get", TYPES_TARGET),
        t("INCR", "incr", TYPES_TARGET), t("HSET", "hset", TYPES_TARGET),
        t("SADD", "sadd", TYPES_TARGET), t("ZADD", "zadd", TYPES_TARGET),
        t("LPUSH", "lpush", TYPES_TARGET), t("LRANGE_100", "lrange_100", {1: 0.8, 16: 0.4}),
        Workload("EVALSHA_SET", ["evalsha", "SHA", "1", "key:__rand_int__", "v"],
                 script=SET_SCRIPT, targets={1: 0.8, 16: 0.6}),
        Workload("EVALSHA_RATELIMIT",
                 ["evalsha", "SHA", "1", "bucket:__rand_int__", "100", "10"],
                 script=BUCKET_SCRIPT, targets={1: 0.7, 16: 0.5}),
        Workload("MULTI_10_SET", [], pipelines=(1,), targets={1: 0.6}),
        t("MSET", "mset", extra=True), t("RPOP", "rpop", extra=True),
        Workload("EVAL_SET", ["eval", SET_SCRIPT, "1", "key:__rand_int__", "v"], extra=True),
        Workload("EVAL_10_CALLS", ["eval", TEN_CALLS, "1", "counter:__rand_int__"],
                 extra=True),
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
        self.floor_ports: dict[str, int] = {}  # --floor: "floor", "floor+rocksdb"
        self.compiled_port: int | None = None  # --compiled: the second ledis
        self.procs: list[subprocess.Popen] = []

    def start_floors(self) -> None:
        """benchmarks/floor.py twice, pinned like the servers: bare, and with RocksDB."""
        for name, extra in (("floor", []), ("floor+rocksdb", ["--rocksdb"])):
            port = self.floor_ports[name] = free_port()
            proc = subprocess.Popen([*taskset(0), sys.executable, str(ROOT / "benchmarks" /
                                     "floor.py"), "--port", str(port), *extra])
            self.procs.append(proc)
            wait_port(port, proc)

    def _ledis(self, port: int, folder: str, interpreted: str | None) -> subprocess.Popen:
        """``interpreted``: LEDIS_INTERPRETED for this server ("1" the .py files, "0" the
        compiled modules); None leaves the environment's."""
        env = dict(os.environ)
        if interpreted is not None:
            env["LEDIS_INTERPRETED"] = interpreted
        proc = subprocess.Popen(
            [*taskset(0), sys.executable, "-m", "ledis", "server", "--port", str(port),
             "--dir", os.path.join(self.tmp, folder), "--appendfsync", "everysec",
             "--loglevel", "warning"],
            cwd=str(ROOT), env=env,
        )
        self.procs.append(proc)
        return proc

    def start_compiled(self) -> None:
        """--compiled: a second ledis running the compiled modules (the first runs the .py
        files); refuses to go on if this tree has none built."""
        port = self.compiled_port = free_port()
        wait_port(port, self._ledis(port, "ledis-compiled", "0"))
        if "ledis_compiled:yes" not in cli(port, "INFO", "server"):
            raise SystemExit("--compiled: no compiled module in this tree; build them with "
                             "LEDIS_COMPILE=1 pip install --no-deps -e .")
        if "ledis_compiled:no" not in cli(self.ledis_port, "INFO", "server"):
            raise SystemExit("--compiled: the first ledis did not start interpreted")

    def start(self, interpreted: str | None = None) -> None:
        ledis = self._ledis(self.ledis_port, "ledis", interpreted)
        redis = subprocess.Popen(
            [*taskset(0), "redis-server", "--port", str(self.redis_port), "--bind", "127.0.0.1",
             "--save", "", "--appendonly", "yes", "--appendfsync", "everysec",
             "--dir", os.path.join(self.tmp), "--loglevel", "warning"],
            stdout=subprocess.DEVNULL,
        )
        self.procs.append(redis)
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


@dataclass
class Result:
    rps: float
    p99_ms: float


def run_one(port: int, w: Workload, pipeline: int, n: int, clients: int, keyspace: int
            ) -> Result:
    if w.name == "MULTI_10_SET":
        return run_multi(port, n // 4, clients, keyspace)
    args = list(w.args)
    if w.script is not None:
        sha = cli(port, "script", "load", w.script)
        args = [sha if a == "SHA" else a for a in args]
    cmd = [*taskset(1), "redis-benchmark", "-p", str(port), "-c", str(clients), "-n", str(n),
           "-P", str(pipeline), *(["-r", str(keyspace)] if keyspace else []), "--csv", *args]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    if "Error from server" in out.stdout + out.stderr:
        raise RuntimeError(f"{w.name}: {out.stdout.strip()} {out.stderr.strip()}")
    rows = list(csv.reader(io.StringIO(out.stdout)))
    for row in rows[1:]:
        if row and row[0].startswith("LPUSH (needed"):
            continue  # lrange_100's list filling
        try:
            return Result(float(row[1]), float(row[6]))
        except (IndexError, ValueError):
            continue
    raise RuntimeError(f"no result from redis-benchmark for {w.name}: {out.stdout} {out.stderr}")


# --- MULTI + 10 SET + EXEC: this script's own client (redis-benchmark sends one command) ------


def run_multi(port: int, transactions: int, clients: int, keyspace: int) -> Result:
    """Run the MULTI client in a child process pinned to the client core; parse its line."""
    cmd = [*taskset(1), sys.executable, __file__, "--multi-client", str(port),
           str(transactions), str(clients), str(keyspace)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    try:
        rps, p99 = out.stdout.split()
        return Result(float(rps), float(p99))
    except ValueError:
        raise RuntimeError(f"MULTI client failed: {out.stdout} {out.stderr}") from None


def _command(*argv: bytes) -> bytes:
    return b"*%d\r\n" % len(argv) + b"".join(b"$%d\r\n%s\r\n" % (len(a), a) for a in argv)


async def _multi_clients(port: int, transactions: int, clients: int, keyspace: int
                         ) -> tuple[float, float]:
    import hiredis

    rng = random.Random(19)
    head, tail = _command(b"MULTI"), _command(b"EXEC")
    latencies: list[float] = []
    left = [transactions]

    def payload() -> bytes:
        keys = [b"key:%012d" % (rng.randrange(keyspace) if keyspace else 0) for _ in range(10)]
        return head + b"".join(_command(b"SET", k, b"xxx") for k in keys) + tail

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        parser = hiredis.Reader()
        perf = time.perf_counter
        while left[0] > 0:
            left[0] -= 1
            data = payload()
            start = perf()
            writer.write(data)
            got = 0
            while got < 12:  # +OK, 10 QUEUED, EXEC's array
                chunk = await reader.read(65536)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                parser.feed(chunk)
                while (reply := parser.gets()) is not False:
                    if isinstance(reply, hiredis.ReplyError):
                        raise RuntimeError(f"server error: {reply}")
                    got += 1
            latencies.append(perf() - start)
        writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000
    return len(latencies) / elapsed, p99


def multi_client_main(argv: list[str]) -> int:
    port, transactions, clients, keyspace = (int(a) for a in argv)
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    rps, p99 = asyncio.run(_multi_clients(port, transactions, clients, keyspace))
    print(f"{rps:.2f} {p99:.3f}")
    return 0


# --- tables ---------------------------------------------------------------------------------


def _fmt_target(t: float | None) -> str:
    return f">= {t}" if t is not None else "-"


def floor_table(results: list[tuple[Workload, int, Result, Result]],
                floors: dict[tuple[str, int], dict[str, Result]], markdown: bool) -> str:
    """--floor: what a minimal Python server (benchmarks/floor.py) does in the same run."""
    rows = [["workload", "redis req/s", "floor (ratio)", "floor+rocksdb (ratio)",
             "ledis (ratio)", "ledis / floor+rocksdb"]]
    for w, p, lo, ro in results:
        found = floors.get((w.name, p))
        if not found or not ro.rps:
            continue
        bare, stored = found["floor"], found["floor+rocksdb"]
        rows.append([f"{w.name} -P {p}", f"{ro.rps:,.0f}",
                     f"{bare.rps:,.0f} ({bare.rps / ro.rps:.2f})",
                     f"{stored.rps:,.0f} ({stored.rps / ro.rps:.2f})",
                     f"{lo.rps:,.0f} ({lo.rps / ro.rps:.2f})",
                     f"{lo.rps / stored.rps:.2f}" if stored.rps else "-"])
    return _render(rows, markdown) if len(rows) > 1 else ""


def compiled_table(results: list[tuple[Workload, int, Result, Result]],
                   compiled: dict[tuple[str, int], Result], markdown: bool) -> str:
    """--compiled: both modes of ledis against Redis, measured in the same rounds."""
    rows = [["workload", "redis req/s", "interpreted (ratio)", "compiled (ratio)",
             "compiled / interpreted", "p99 ms interpreted / compiled"]]
    for w, p, lo, ro in results:
        co = compiled.get((w.name, p))
        if co is None or not ro.rps:
            continue
        rows.append([f"{w.name} -P {p}", f"{ro.rps:,.0f}",
                     f"{lo.rps:,.0f} ({lo.rps / ro.rps:.2f})",
                     f"{co.rps:,.0f} ({co.rps / ro.rps:.2f})",
                     f"{co.rps / lo.rps:.2f}" if lo.rps else "-",
                     f"{lo.p99_ms:.3f} / {co.p99_ms:.3f}" if p == 1 else "-"])
    return _render(rows, markdown) if len(rows) > 1 else ""


def tables(results: list[tuple[Workload, int, Result, Result]], markdown: bool) -> str:
    rows = [["workload", "ledis req/s", "redis req/s", "ratio", "target"]]
    for w, p, lo, ro in results:
        ratio = lo.rps / ro.rps if ro.rps else 0.0
        target = w.targets.get(p)
        mark = "" if target is None else (" ok" if ratio >= target else " below")
        rows.append([f"{w.name} -P {p}", f"{lo.rps:,.0f}", f"{ro.rps:,.0f}", f"{ratio:.2f}",
                     _fmt_target(target) + mark])
    lat = [["workload (-P 1)", "ledis p99 ms", "redis p99 ms", "ledis/redis", "target"]]
    for w, p, lo, ro in results:
        if p != 1:
            continue
        ratio = lo.p99_ms / ro.p99_ms if ro.p99_ms else float("inf")
        lat.append([w.name, f"{lo.p99_ms:.3f}", f"{ro.p99_ms:.3f}", f"{ratio:.2f}",
                    "<= 2" + (" ok" if ratio <= 2 else " above")])
    return _render(rows, markdown) + "\n" + _render(lat, markdown)


def _render(rows: list[list[str]], markdown: bool) -> str:
    if markdown:
        out = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
        out += ["| " + " | ".join(r) + " |" for r in rows[1:]]
        return "\n".join(out) + "\n"
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for r in rows:
        out.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                             for i, (c, w) in enumerate(zip(r, widths, strict=True))))
    return "\n".join(out) + "\n"


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--multi-client"]:
        return multi_client_main(argv[1:])
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("-n", type=int, default=200_000, help="requests per run (-P 16 runs use 4x; "
                    "MULTI runs n/4 transactions)")
    ap.add_argument("-c", type=int, default=50, help="clients")
    ap.add_argument("--rounds", type=int, default=2, help="alternating rounds (best kept)")
    ap.add_argument("--quick", action="store_true",
                    help="smoke run: -n 2000, one round (figures mean nothing)")
    ap.add_argument("--only", default="", help="comma-separated workload names (case-insensitive)")
    ap.add_argument("--all", action="store_true",
                    help="also the workloads without a target (MSET, RPOP, EVAL_SET, ...)")
    ap.add_argument("--pipelines", default="1,16")
    ap.add_argument("--random", type=int, default=100_000, metavar="N",
                    help="redis-benchmark -r N: random keys out of N (default 100000, issue "
                         "#19); 0: one key per test, the plain `redis-benchmark -q -c 50`")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--floor", action="store_true",
                    help="also run benchmarks/floor.py (a minimal uvloop server, bare and with "
                         "a RocksDB write per write command) on the workloads without a script")
    ap.add_argument("--compiled", action="store_true",
                    help="also a ledis running its compiled modules (built in place), the "
                         "first one then running the .py files")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "latest.md"))
    args = ap.parse_args(argv)
    if args.quick:
        args.n, args.rounds = 2000, 1
    if not shutil.which("redis-benchmark") or not shutil.which("redis-server"):
        print("needs redis-server and redis-benchmark (apt-get install redis-server redis-tools)")
        return 2
    only = {s.strip().upper() for s in args.only.split(",") if s.strip()}
    pipelines = tuple(int(p) for p in args.pipelines.split(","))
    chosen = [w for w in workloads()
              if (w.name.upper() in only if only else args.all or not w.extra)]
    if not chosen:
        print(f"no workload named {args.only!r}: {', '.join(w.name for w in workloads())}")
        return 2
    # a SIGTERM stops the servers too (the finally below), as Ctrl-C does
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    servers = Servers()
    results: list[tuple[Workload, int, Result, Result]] = []
    floors: dict[tuple[str, int], dict[str, Result]] = {}
    compiled: dict[tuple[str, int], Result] = {}
    try:
        servers.start("1" if args.compiled else None)
        if args.floor:
            servers.start_floors()
        if args.compiled:
            servers.start_compiled()
        for w in chosen:
            for p in pipelines:
                if p not in w.pipelines:
                    continue
                n = args.n * (4 if p > 1 else 1)
                best: dict[str, Result] = {}
                ports = [("ledis", servers.ledis_port), ("redis", servers.redis_port)]
                if servers.compiled_port is not None:
                    ports.append(("compiled", servers.compiled_port))
                if w.script is None:
                    ports += servers.floor_ports.items()
                for _ in range(args.rounds):
                    for name, port in ports:
                        r = run_one(port, w, p, n, args.c, args.random)
                        if name not in best or r.rps > best[name].rps:
                            best[name] = r
                lo, ro = best["ledis"], best["redis"]
                results.append((w, p, lo, ro))
                if "floor" in best:
                    floors[(w.name, p)] = best
                if "compiled" in best:
                    compiled[(w.name, p)] = best["compiled"]
                print(f"{w.name:<18} -P {p:<3} ledis {lo.rps:>11,.0f}  redis {ro.rps:>11,.0f}  "
                      f"ratio {lo.rps / ro.rps if ro.rps else 0:.2f}", file=sys.stderr,
                      flush=True)
    finally:
        servers.stop()
    header = (
        f"Run {time.strftime('%Y-%m-%d %H:%M')} on {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; redis-benchmark -c {args.c} -n {args.n} "
        f"(x4 for -P 16)"
        f"{f', -r {args.random}' if args.random else ', one key per test (no -r)'}, "
        f"best of {args.rounds} alternating rounds; Redis with appendonly yes / everysec.\n\n")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(
        header + tables(results, True) + "\n" + floor_table(results, floors, True)
        + compiled_table(results, compiled, True))
    print(header + tables(results, args.markdown) + "\n"
          + floor_table(results, floors, args.markdown)
          + compiled_table(results, compiled, args.markdown), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
