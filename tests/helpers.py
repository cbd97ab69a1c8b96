"""Test helpers: run real servers (ledis and redis-server) as subprocesses on free ports."""

from __future__ import annotations

import inspect
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis

ROOT = Path(__file__).resolve().parent.parent


def resp2_proxy_client(**kw) -> redis.Redis:
    """A redis-py client for twemproxy: RESP2 and no CLIENT SETINFO on connect (twemproxy
    closes the connection on a command it does not forward). redis-py 8.2 turns SETINFO off
    with ``driver_info=None`` and deprecates ``lib_name`` / ``lib_version``, which 8.1 needs."""
    if "driver_info" in inspect.signature(redis.Redis.__init__).parameters:
        return redis.Redis(protocol=2, driver_info=None, **kw)
    return redis.Redis(protocol=2, lib_name=None, lib_version=None, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen | None = None, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with code {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"port {port} did not open")


class LedisProcess:
    """A ledis server subprocess with its own temp data dir (kept across restart())."""

    def __init__(self, *extra: str, data_dir: str | None = None, port: int | None = None,
                 config: str | None = None) -> None:
        self.port = port or free_port()
        self._own_dir = data_dir is None
        self.dir = data_dir or tempfile.mkdtemp(prefix="ledis-test-")
        self.extra = list(extra)
        self.config = config
        self.proc: subprocess.Popen | None = None
        self.log_path = os.path.join(self.dir, "server.log")

    def start(self) -> LedisProcess:
        cmd = [sys.executable, "-m", "ledis", "server", "--port", str(self.port),
               "--dir", os.path.join(self.dir, "db"), "--loglevel", "warning", *self.extra]
        if self.config:
            cmd += ["--config", self.config]
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=str(ROOT), stdout=self._log, stderr=self._log)
        try:
            wait_port(self.port, self.proc)
        except RuntimeError as exc:  # say why: the end of the server's own log
            self._log.flush()
            raise RuntimeError(f"{exc}; server log ends:\n{self.log()[-3000:]}") from None
        return self

    def client(self, **kw) -> redis.Redis:
        return redis.Redis(port=self.port, **kw)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None
        self._log.close()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self) -> LedisProcess:
        self.stop()
        return self.start()

    def log(self) -> str:
        try:
            return Path(self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.dir, ignore_errors=True)


class RedisProcess:
    """A stock redis-server (the reference) on a free port, no persistence."""

    def __init__(self, *extra: str) -> None:
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="redis-ref-")
        self.extra = list(extra)
        self.proc: subprocess.Popen | None = None

    def start(self) -> RedisProcess:
        self.proc = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.dir, *self.extra],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        wait_port(self.port, self.proc)
        return self

    def client(self, **kw) -> redis.Redis:
        return redis.Redis(port=self.port, **kw)

    def cleanup(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


def have_redis_server() -> bool:
    return shutil.which("redis-server") is not None
