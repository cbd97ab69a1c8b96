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


def test_hotpath_build_prepares_more_requests_than_it_runs(capsys, monkeypatch):
    """``--build N`` (callgrind runs that differ only in what they run): the requests of N
    commands are built, fewer are run."""
    built = []
    real = hotpath.requests

    def counting(kind, key, sha):
        built.append(kind)
        return real(kind, key, sha)

    monkeypatch.setattr(hotpath, "requests", counting)
    assert hotpath.main(["zadd", "-P", "1", "--commands", "500", "--random",
                         "--build", "5000"]) == 0
    assert re.fullmatch(r"ZADD +-P 1 +\d+\.\d\d us/command \(random keys\)\n",
                        capsys.readouterr().out)
    assert len(built) == 5000  # 100 iterations of 50 connections; 10 + 1 are run
