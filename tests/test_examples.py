"""The examples/ of FUNCTION and the stdlib run as smoke tests against a private server
(short and bounded)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from tests.helpers import ROOT, free_port

EXAMPLES = ROOT / "examples"


@pytest.fixture(scope="module")
def port():
    from tests.helpers import LedisProcess

    proc = LedisProcess().start()
    yield proc.port
    proc.cleanup()


def run(*cmd: str, timeout: float = 90) -> str:
    # the examples import ledis (ledis.resources.STDLIB_DIR): make it this checkout's
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)}
    try:
        done = subprocess.run(cmd, cwd=str(ROOT), capture_output=True, text=True,
                              timeout=timeout, env=env)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{cmd} timed out; output: {exc.stdout!r} {exc.stderr!r}") from None
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


need_cli = pytest.mark.skipif(shutil.which("redis-cli") is None, reason="redis-cli missing")


@need_cli
def test_eval_cli(port):
    out = run("sh", str(EXAMPLES / "eval_cli.sh"), str(port))
    assert "WRONGTYPE" in out and out.strip().endswith("bob")


@need_cli
def test_stdlib_cli(port):
    out = run("sh", str(EXAMPLES / "stdlib_cli.sh"), str(port))
    assert "alice token=1" in out and "bob: []" in out and "lock_acquire" in out


def test_stdlib_redis_py(port):
    out = run(sys.executable, str(EXAMPLES / "stdlib_redis_py.py"), "--port", str(port))
    assert "request 3: allowed=0" in out and "top ['bob', '50'" in out


def test_worker_pool_redelivers_crashed_job(port):
    out = run(sys.executable, str(EXAMPLES / "worker_pool.py"), "--port", str(port),
              "--jobs", "30", "--workers", "3", timeout=100)
    assert "processed 30/30 jobs" in out and "'job-5'" in out


def test_ratelimit_aiohttp(port):
    pytest.importorskip("aiohttp")
    out = run(sys.executable, str(EXAMPLES / "ratelimit_aiohttp.py"), "--port", str(port),
              "--http-port", str(free_port()), "--selftest")
    assert out.count("429") == 3


def test_cli_functions_load(port):
    out = run(sys.executable, "-m", "ledis", "functions", "--port", str(port), "load", "--all")
    assert "queue: loaded" in out
    out = run(sys.executable, "-m", "ledis", "functions", "--port", str(port), "list")
    assert "jsondoc\tloaded" in out
    bad = subprocess.run([sys.executable, "-m", "ledis", "functions", "--port", str(port),
                          "load", "nope"], cwd=str(ROOT), capture_output=True, text=True,
                         timeout=60)
    assert bad.returncode == 1 and "no such library" in bad.stderr


def test_embedded_stdlib():
    out = run(sys.executable, str(EXAMPLES / "embedded_stdlib.py"))
    assert "lock token 3" in out and "b'acked': 3" in out
