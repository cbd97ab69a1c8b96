"""Install anywhere (issue #15): the sdist and the wheel built from this checkout, each
installed into a fresh venv outside the source tree (no system site-packages, so the editable
install of the development environment cannot leak in), run a server from an unrelated working
directory whose EVAL, FUNCTION LOAD of a stdlib library from the installed package, FCALL and
``--functions-autoload all`` work.

One build per session, shared by xdist workers (``python -m build``: the sdist, then the wheel
from that sdist, so a file missing from the sdist shows up in both); dependencies come from
pip's cache or index. About 55 s of CPU (65 s wall on two idle cores, 2 min under load), most
of it pip installing the dependencies twice.

These builds are pure Python (the default; compiling the hot path is opt-in with
``LEDIS_COMPILE=1`` and costs minutes of CPU per build); the compiled wheel has its own, slow,
test at the end.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
import redis

from tests.helpers import ROOT, free_port, wait_port

# The builds and pip installs have their own subprocess timeouts; pytest's 120 s default would
# cut the first test's fixture set-up (build + two installs) on a loaded machine.
pytestmark = pytest.mark.timeout(900)

SOURCE_LUA = sorted(
    p.relative_to(ROOT).as_posix()
    for sub in ("ledis/lua", "ledis/stdlib") for p in (ROOT / sub).glob("*.lua"))
SOURCE_STDLIB = sorted(p.stem for p in (ROOT / "ledis/stdlib").glob("*.lua"))
SOURCE_CONSOLE = sorted(p.relative_to(ROOT).as_posix()
                        for p in (ROOT / "ledis/http/console").iterdir() if p.is_file())


def _env(compile: bool = False) -> dict[str, str]:
    # nothing from this checkout or the test environment may reach the installed package
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP",
                        "LEDIS_COMPILE", "LEDIS_INTERPRETED")}
    env["PYTHONNOUSERSITE"] = "1"
    if compile:
        env["LEDIS_COMPILE"] = "1"  # setup.py compiles the hot path (and asks for Cython)
    return env


def _run(cmd: list[str], cwd: Path, timeout: float, compile: bool = False) -> str:
    try:
        done = subprocess.run(cmd, cwd=str(cwd), env=_env(compile), capture_output=True, text=True,
                              timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise AssertionError(f"{cmd} timed out: {exc.stdout!r} {exc.stderr!r}") from None
    assert done.returncode == 0, f"{cmd} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _once(tmp_path_factory, name: str, make: Callable[[Path], None]) -> Path:
    """``make(dir)`` run once per test session even under pytest-xdist, whose workers would
    each build and install everything again: they share the session's base temp directory,
    and a lock plus a marker file make the first one do the work for all."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # pytest-N/, shared by this session's workers (popen-gwN/ each)
    target = base / name
    with open(base / f"{name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (target / ".done").exists():
            shutil.rmtree(target, ignore_errors=True)
            target.mkdir()
            make(target)
            (target / ".done").touch()
    return target


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> dict[str, Path]:
    """The sdist and the wheel of this checkout: ``{"sdist": path, "wheel": path}``."""

    def build(out: Path) -> None:
        _run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], cwd=out,
             timeout=300)

    out = _once(tmp_path_factory, "dist", build)
    sdists, wheels = list(out.glob("ledis-*.tar.gz")), list(out.glob("ledis-*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, list(out.iterdir())
    return {"sdist": sdists[0], "wheel": wheels[0]}


@pytest.fixture(scope="module", params=["wheel", "sdist"])
def venv(request, dist, tmp_path_factory) -> Path:
    """A fresh venv with the wheel (or the sdist, built by pip) installed; returns its bin/."""

    def install(home: Path) -> None:
        # no pip inside the venv (ensurepip costs ~15 s): this interpreter's pip installs into
        # it (``pip --python``, pip >= 22.3)
        _run([sys.executable, "-m", "venv", "--without-pip", str(home / "venv")], cwd=home,
             timeout=120)
        _run([sys.executable, "-m", "pip", "--python", str(home / "venv" / "bin" / "python"),
              "install", "-q", str(dist[request.param])], cwd=home, timeout=600)

    return _once(tmp_path_factory, f"venv-{request.param}", install) / "venv" / "bin"


class InstalledServer:
    """``<venv>/bin/ledis server`` run from an empty working directory."""

    def __init__(self, bin_dir: Path, workdir: Path, *extra: str, env: dict | None = None) -> None:
        self.port = free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.log_path = workdir / "server.log"
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [str(bin_dir / "ledis"), "server", "--port", str(self.port),
             "--dir", str(workdir / "db"), *extra],
            cwd=str(workdir), env=env or _env(), stdout=self._log, stderr=self._log)
        try:
            wait_port(self.port, self.proc)
        except Exception as exc:
            self.stop()
            raise RuntimeError(f"{exc}; server log:\n{self.log()[-3000:]}") from exc

    def client(self) -> redis.Redis:
        return redis.Redis(port=self.port, decode_responses=True, protocol=3)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()


@pytest.fixture
def start(venv, tmp_path):
    servers: list[InstalledServer] = []

    def make(*extra: str) -> InstalledServer:
        server = InstalledServer(venv, tmp_path / f"run{len(servers)}", *extra)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()


def test_wheel_and_sdist_carry_the_lua_files(dist):
    assert SOURCE_LUA and "ledis/lua/prelude.lua" in SOURCE_LUA
    with zipfile.ZipFile(dist["wheel"]) as whl:
        in_wheel = sorted(n for n in whl.namelist() if n.endswith(".lua"))
    assert in_wheel == SOURCE_LUA
    with tarfile.open(dist["sdist"]) as tar:
        in_sdist = sorted(n.split("/", 1)[1] for n in tar.getnames() if n.endswith(".lua"))
    assert in_sdist == SOURCE_LUA


def test_sdist_carries_the_cython_declarations(dist):
    """A compiled build from the sdist (``LEDIS_COMPILE=1``) types the hot classes only with
    their ``.pxd`` files (setup.py, tests/unit/test_pxd.py)."""
    source = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "ledis").rglob("*.pxd"))
    assert "ledis/core.pxd" in source
    with tarfile.open(dist["sdist"]) as tar:
        in_sdist = sorted(n.split("/", 1)[1] for n in tar.getnames() if n.endswith(".pxd"))
    assert in_sdist == source


def test_wheel_and_sdist_carry_the_console(dist):
    """The browser console's static files are package data (docs/console.md)."""
    assert "ledis/http/console/index.html" in SOURCE_CONSOLE
    with zipfile.ZipFile(dist["wheel"]) as whl:
        in_wheel = sorted(n for n in whl.namelist() if n.startswith("ledis/http/console/"))
    assert in_wheel == SOURCE_CONSOLE
    with tarfile.open(dist["sdist"]) as tar:
        in_sdist = sorted(n.split("/", 1)[1] for n in tar.getnames()
                          if "/ledis/http/console/" in n and not n.endswith("/console"))
    assert in_sdist == SOURCE_CONSOLE


def test_installed_package_is_the_venvs(venv, tmp_path):
    """The venv imports its own copy of ledis, and the self-check passes there."""
    out = _run([str(venv / "python"), "-c",
                "import ledis.resources as r; print(r.LUA_DIR); print(r.check_runtime())"],
               cwd=tmp_path, timeout=60).splitlines()
    assert Path(out[0]).is_relative_to(venv.parent) and Path(out[0]).name == "lua"
    assert not Path(out[0]).is_relative_to(ROOT)
    assert out[1] == "None"


def test_installed_server_runs_eval_function_load_and_fcall(venv, start, tmp_path):
    server = start()
    r = server.client()
    assert r.eval("return redis.call('set', KEYS[1], ARGV[1])", 1, "k", "v1") == "OK"
    assert r.get("k") == "v1"
    # FUNCTION LOAD through the installed CLI, which reads the installed stdlib/lock.lua
    out = _run([str(venv / "ledis"), "functions", "--port", str(server.port), "load", "lock"],
               cwd=tmp_path, timeout=60)
    assert "lock: loaded" in out
    assert [lib["library_name"] for lib in r.function_list()] == ["lock"]
    token = r.fcall("lock_acquire", 1, "res", "alice", 10000)
    assert isinstance(token, int) and token >= 1
    assert r.fcall("lock_acquire", 1, "res", "bob", 10000) is None
    owner, owner_token, pttl = r.fcall_ro("lock_owner", 1, "res")
    assert (owner, owner_token) == ("alice", token) and 0 < pttl <= 10000
    assert r.fcall("lock_release", 1, "res", "alice", token) == 1
    assert r.fcall("lock_owner", 1, "res") is None
    assert "Traceback" not in server.log()


def test_installed_server_autoloads_the_whole_stdlib(start):
    server = start("--functions-autoload", "all")
    names = sorted(lib["library_name"] for lib in server.client().function_list())
    assert names == SOURCE_STDLIB and "queue" in names
    assert server.client().fcall("q_push", 1, "jobs", "job-1") == "1"  # the first job id


def test_default_builds_are_pure_python(dist):
    """The default build gives a pure wheel: no extension, a platform-independent tag."""
    assert dist["wheel"].name.endswith("-py3-none-any.whl")
    with zipfile.ZipFile(dist["wheel"]) as whl:
        assert not [n for n in whl.namelist() if n.endswith((".so", ".c"))]


def test_installed_pure_server_reports_interpreted(start):
    info = start().client().info("server")
    assert (info["ledis_compiled"], info["ledis_compiled_modules"]) == ("no", 0)


@pytest.mark.slow
def test_compiled_wheel_installs_and_serves(tmp_path):
    """A wheel built with the compiler (setup.py's Cython build, minutes of CPU) carries the
    compiled hot path next to its sources, runs it, and ``LEDIS_INTERPRETED=1`` runs the
    same install from the sources."""
    _run([sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"),
          str(ROOT)], cwd=tmp_path, timeout=1800, compile=True)
    (wheel,) = (tmp_path / "dist").glob("ledis-*.whl")
    with zipfile.ZipFile(wheel) as whl:
        names = whl.namelist()
    compiled = [n for n in names if n.endswith(".so")]
    assert any(n.startswith("ledis/core.") for n in compiled), names
    assert all(n.split(".")[0] + ".py" in names for n in compiled)  # the source stays too
    _run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "venv")], cwd=tmp_path,
         timeout=120)
    _run([sys.executable, "-m", "pip", "--python", str(tmp_path / "venv" / "bin" / "python"),
          "install", "-q", str(wheel)], cwd=tmp_path, timeout=600)
    for interpreted in ("0", "1"):
        server = InstalledServer(tmp_path / "venv" / "bin", tmp_path / f"run{interpreted}",
                                 env={**_env(), "LEDIS_INTERPRETED": interpreted})
        try:
            r = server.client()
            info = r.info("server")
            assert info["ledis_compiled"] == ("no" if interpreted == "1" else "yes")
            assert (info["ledis_compiled_modules"] == 0) == (interpreted == "1")
            assert r.set("k", "v") and r.get("k") == "v"
            assert r.eval("return redis.call('incr', KEYS[1])", 1, "n") == 1
        finally:
            server.stop()
        assert "Traceback" not in server.log()
