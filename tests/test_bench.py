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

from tests.helpers import ROOT

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
