"""The compiled hot path and its interpreted fallback (issue #19, setup.py, ledis/__init__.py).

setup.py compiles the hot modules with Cython next to their ``.py`` files; ``LEDIS_INTERPRETED=1``
makes the same install load the ``.py`` source. The suite runs in whichever mode its
environment says (in CI, tests/run.sh runs it whole on the pure install, then compiles in place
and runs the suites of the compiled modules again with ``LEDIS_REQUIRE_COMPILED=1``); these
tests check that the mode is the one asked for, in the process and on a server's INFO,
and that both modes serve the same commands.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import redis

from tests.helpers import ROOT

# The compiled modules setup.py builds, as module names: those whose .so sits in the tree.
BUILT = sorted(
    ".".join(p.relative_to(ROOT).with_name(p.name.split(".")[0]).parts)
    for p in (ROOT / "ledis").rglob("*.so") if p.with_name(p.name.split(".")[0] + ".py").exists())
INTERPRETED = os.environ.get("LEDIS_INTERPRETED", "") not in ("", "0")


def _loaded(interpreted: bool) -> tuple[list[str], str]:
    """Import the server's modules in a fresh interpreter: (compiled modules, core's file)."""
    env = {**os.environ, "LEDIS_INTERPRETED": "1" if interpreted else "0"}
    out = subprocess.run(
        [sys.executable, "-c", "import ledis.server.compose, ledis.core, ledis.version as v; "
         "print(' '.join(v.compiled_modules())); print(ledis.core.__file__)"],
        cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=60, check=True)
    modules, core_file = out.stdout.splitlines()
    return modules.split(), core_file


def _info(server) -> dict:
    client = server.client(decode_responses=True)
    try:
        return client.info("server")
    finally:
        client.close()


def test_ci_builds_the_compiled_modules():
    """Where the build is required to compile (tests/run.sh in CI), a pure fallback fails."""
    if os.environ.get("LEDIS_REQUIRE_COMPILED") != "1":
        pytest.skip("LEDIS_REQUIRE_COMPILED is not set")
    assert "ledis.core" in BUILT and "ledis.server.connection" in BUILT, BUILT


def test_interpreted_switch_loads_the_source():
    modules, core_file = _loaded(interpreted=True)
    assert modules == []
    assert core_file.endswith("core.py")


def test_default_loads_what_was_built():
    modules, core_file = _loaded(interpreted=False)
    if BUILT:
        assert modules and set(modules) <= set(BUILT)
    else:
        assert modules == []
    assert core_file.endswith(".so") == ("ledis.core" in BUILT)


@pytest.mark.parametrize("interpreted", [True, False], ids=["interpreted", "default"])
def test_typed_classes_are_extension_types_once_compiled(interpreted):
    """The ``.pxd`` files beside connection.py and core.py take effect: compiled, Connection
    and Core are static extension types (no Py_TPFLAGS_HEAPTYPE), and a Connection has no
    ``__dict__`` (its attributes are struct fields); interpreted, both are plain classes."""
    env = {**os.environ, "LEDIS_INTERPRETED": "1" if interpreted else "0"}
    out = subprocess.run(
        [sys.executable, "-c",
         "from ledis.core import Core; from ledis.server.connection import Connection as C; "
         "print(Core.__flags__ & (1 << 9), C.__flags__ & (1 << 9), "
         "hasattr(C.__new__(C), '__dict__'))"],
        cwd=str(ROOT), env=env, capture_output=True, text=True, timeout=60, check=True)
    heap_core, heap_conn, conn_dict = out.stdout.split()
    typed = not interpreted and "ledis.core" in BUILT and "ledis.server.connection" in BUILT
    assert (heap_core, heap_conn, conn_dict) == (
        ("0", "0", "False") if typed else ("512", "512", "True"))


def test_session_server_runs_the_mode_of_the_environment(server):
    info = _info(server)
    compiled = bool(BUILT) and not INTERPRETED
    assert info["ledis_compiled"] == ("yes" if compiled else "no")
    assert (info["ledis_compiled_modules"] > 0) == compiled


@pytest.mark.parametrize("interpreted", [True, False], ids=["interpreted", "default"])
def test_both_modes_serve_the_same_replies(fresh_server, monkeypatch, interpreted):
    monkeypatch.setenv("LEDIS_INTERPRETED", "1" if interpreted else "0")
    server = fresh_server()
    info = _info(server)
    assert info["ledis_compiled"] == ("no" if interpreted or not BUILT else "yes")
    count = info["ledis_compiled_modules"]
    assert count == 0 if interpreted else 0 < count <= len(BUILT) or count == len(BUILT) == 0
    r = server.client()
    try:
        assert r.set("k", "v") is True and r.get("k") == b"v"
        assert r.hset("h", mapping={"a": 1, "b": 2}) == 2 and r.hgetall("h") == {
            b"a": b"1", b"b": b"2"}
        assert r.rpush("l", 1, 2, 3) == 3 and r.lrange("l", 0, -1) == [b"1", b"2", b"3"]
        assert r.zadd("z", {"m": 1.5}) == 1 and r.zscore("z", "m") == 1.5
        assert r.eval("return redis.call('incrby', KEYS[1], ARGV[1])", 1, "n", 41) == 41
        with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
            r.eval("return redis.call('get', KEYS[1])", 1, "h")
    finally:
        r.close()


@pytest.mark.skipif(not (shutil.which("redis-server") and shutil.which("redis-benchmark")),
                    reason="needs redis-server and redis-benchmark")
def test_bench_measures_both_modes(tmp_path):
    """``benchmarks/bench.py --compiled`` runs an interpreted and a compiled ledis beside Redis
    in the same rounds and prints each mode's ratio (issue #19: results for both modes); on a
    tree without compiled modules it stops and says how to build them, measuring nothing."""
    run = subprocess.run(
        [sys.executable, "benchmarks/bench.py", "--compiled", "--quick", "--only", "SET",
         "--markdown", "--out", str(tmp_path / "latest.md")],
        cwd=str(ROOT), capture_output=True, text=True, timeout=300)
    if not BUILT:
        assert run.returncode != 0
        assert "no compiled module" in run.stderr + run.stdout
        assert not (tmp_path / "latest.md").exists()
        return
    assert run.returncode == 0, run.stderr
    rows = {}
    for line in run.stdout.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 6 and cells[0].startswith("SET -P"):
            rows[cells[0]] = cells
    for name in ("SET -P 1", "SET -P 16"):
        _, redis_rps, interpreted, compiled, ratio, _ = rows[name]
        rates = [float(cell.split(" (")[0].replace(",", ""))
                 for cell in (redis_rps, interpreted, compiled)]
        assert all(rate > 0 for rate in rates)
        assert float(compiled.split("(")[1].rstrip(")")) == pytest.approx(
            rates[2] / rates[0], abs=0.01)
        assert float(ratio) == pytest.approx(rates[2] / rates[1], abs=0.01)
