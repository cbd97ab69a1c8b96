"""benchmarks/hotpath.py runs end to end (no timing assertion: figures live in
docs/PERFORMANCE.md), including ``--rounds`` (best of N) and ``--cpu`` (main-thread CPU)."""

from __future__ import annotations

import re

from benchmarks import hotpath


def test_hotpath_prints_a_figure_per_kind_and_depth(capsys):
    assert hotpath.main(["get", "set", "-P", "1", "-P", "4", "--commands", "400",
                         "--rounds", "2", "--cpu"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["GET", "GET", "SET", "SET"]
    for line in lines:
        m = re.fullmatch(r"\w+ +-P (\d+) +(\d+\.\d\d) us/command \(one key, CPU, best of 2\)",
                         line)
        assert m, line
        assert float(m.group(2)) > 0


def test_hotpath_multi_counts_transactions(capsys):
    assert hotpath.main(["multi", "-P", "1", "--commands", "600", "--random"]) == 0
    out = capsys.readouterr().out
    assert re.fullmatch(r"MULTI +-P 1 +\d+\.\d\d us/transaction \(random keys\)\n", out), out
