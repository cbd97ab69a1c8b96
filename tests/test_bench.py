"""benchmarks/bench.py end to end: a smoke run against both servers prints a ratio.

No timing assertion (figures from a --quick run mean nothing): this checks that the script
starts ledis and redis-server side by side, drives both with redis-benchmark, and fills the
table with two measured rates and their ratio.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys

import pytest
import redis

from tests.helpers import ROOT, free_port, wait_port

pytestmark = pytest.mark.skipif(
    not (shutil.which("redis-server") and shutil.which("redis-benchmark")),
    reason="needs redis-server and redis-benchmark")


def test_bench_quick_set_prints_ratio(tmp_path):
    out = tmp_path / "latest.md"
    run = subprocess.run([sys.executable, "benchmarks/bench.py", "--quick", "--only", "SET",
                          "--markdown", "--out", str(out)],
                         cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = {}
    for line in run.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5:
            rows[cells[0]] = cells
    for name in ("SET -P 1", "SET -P 16"):
        _, ledis, redis, ratio, target = rows[name]
        ledis_rps = float(ledis.replace(",", ""))
        redis_rps = float(redis.replace(",", ""))
        assert ledis_rps > 0 and redis_rps > 0
        assert float(ratio) == pytest.approx(ledis_rps / redis_rps, abs=0.01)
        assert re.match(r">= 0\.(9|6)", target)
    # p99 at -P 1 of both servers
    _, ledis_p99, redis_p99, _, _ = rows["SET"]
    assert float(ledis_p99) > 0 and float(redis_p99) > 0
    assert "| SET -P 1 |" in out.read_text()
    assert not [w for w in ("GET", "INCR") if any(k.startswith(w) for k in rows)]


def _floor(*extra: str):
    port = free_port()
    proc = subprocess.Popen([sys.executable, "benchmarks/floor.py", "--port", str(port), *extra],
                            cwd=str(ROOT))
    wait_port(port, proc)
    return proc, port


@pytest.mark.parametrize("stored", [False, True], ids=["bare", "rocksdb"])
def test_floor_server_answers_redis_clients(stored):
    """benchmarks/floor.py speaks enough RESP for redis-py and redis-benchmark's workloads:
    with --rocksdb a SET is stored (in a group commit) and read back by GET."""
    proc, port = _floor(*(["--rocksdb"] if stored else []))
    try:
        r = redis.Redis(port=port, protocol=2)  # no HELLO: the floor has no handshake
        assert r.set("k", "v") is True
        assert r.get("k") == (b"v" if stored else b"xxx")
        assert r.get("missing") == (None if stored else b"xxx")
        assert r.hset("h", "f", "v") == 1 and r.lpush("l", "x") == 1
        assert r.lrange("l", 0, 99) == ([b"x"] if stored else [b"xxx"] * 100)
        if stored:  # LPUSH adds an element per call, newest first; LRANGE reads at most 100
            for i in range(150):
                r.lpush("l", i)
            assert r.lrange("l", 0, 99) == [b"%d" % i for i in range(149, 49, -1)]
        pipe = r.pipeline(transaction=False)
        for i in range(50):
            pipe.set(f"p{i}", i)
        assert pipe.execute() == [True] * 50
        assert r.get("p49") == (b"49" if stored else b"xxx")  # committed with its iteration
    finally:
        proc.terminate()
        assert proc.wait(10) == 0  # SIGTERM stops its loop: a clean exit, temp dir removed


def test_bench_floor_table(tmp_path):
    """--floor adds the floor servers' rates and their ratios to Redis's, for the workloads
    without a script (EVALSHA rows have none)."""
    out = tmp_path / "latest.md"
    run = subprocess.run([sys.executable, "benchmarks/bench.py", "--quick", "--only",
                          "SET,EVALSHA_SET", "--pipelines", "1", "--floor", "--markdown",
                          "--out", str(out)],
                         cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = {}
    for line in run.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0] not in ("workload", "---"):
            rows[cells[0]] = cells
    assert set(rows) == {"SET -P 1"}
    _, redis_rps, bare, stored, ledis, over_floor = rows["SET -P 1"]
    redis_rate = float(redis_rps.replace(",", ""))
    for cell in (bare, stored, ledis):
        rate, ratio = re.fullmatch(r"([\d,]+) \((\d+\.\d\d)\)", cell).groups()
        assert float(rate.replace(",", "")) > 0
        assert float(ratio) == pytest.approx(float(rate.replace(",", "")) / redis_rate, abs=0.01)
    assert float(over_floor) > 0
    assert "floor+rocksdb (ratio)" in out.read_text()


def test_churn_bench_smoke_fills_its_table():
    """benchmarks/churn_bench.py end to end on a tiny store: both servers, reads alone and with
    the churn client, every figure measured (no timing assertion)."""
    run = subprocess.run([sys.executable, "benchmarks/churn_bench.py", "--cold", "3000",
                          "--reads", "3000", "--deletes", "500"], cwd=str(ROOT),
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    tables: dict[int, dict[str, list[str]]] = {6: {}, 3: {}}  # reads, then delete orders
    for line in run.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) in tables and cells[0] in ("ledis", "redis"):
            tables[len(cells)][cells[0]] = cells[1:]
    for rows in tables.values():
        for server in ("ledis", "redis"):
            figures = [float(x.replace(",", "")) for x in rows[server]]
            assert all(f > 0 for f in figures), (server, figures)


def test_range_tombstones_bench_prints_each_count():
    run = subprocess.run([sys.executable, "benchmarks/range_tombstones.py", "--counts", "50,100"],
                         cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    rows = [line for line in run.stdout.splitlines() if line.startswith("| ") and
            line[2].isdigit()]
    assert [r.split("|")[1].strip() for r in rows] == ["50", "100"]
    assert all(float(x) > 0 for r in rows for x in r.strip("| ").split("|")[1:])
