"""Shared pieces of the fuzz tests: a server's resident memory and raw socket exchanges."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Callable, Coroutine
from typing import Any


def proc_status_bytes(pid: int, field: str) -> int:
    """A size field of /proc/<pid>/status (``VmRSS``, ``VmSize``), in bytes."""
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field}")


def rss_bytes(pid: int) -> int:
    """VmRSS of a process."""
    return proc_status_bytes(pid, "VmRSS")


def exchange(port: int, data: bytes, wait: float = 3.0) -> tuple[bytes, bool]:
    """Send ``data``; return (everything received, whether the server closed)."""
    with socket.create_connection(("127.0.0.1", port), timeout=wait) as s:
        try:
            s.sendall(data)
        except OSError:  # the server refused and closed while we were still sending
            pass
        out = b""
        deadline = time.time() + wait
        s.settimeout(wait)
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except TimeoutError:
                return out, False
            except (ConnectionResetError, BrokenPipeError):
                return out, True
            if not chunk:
                return out, True
            out += chunk
            s.settimeout(0.3)
        return out, False


def ping(port: int, timeout: float = 5.0) -> float:
    """One PING round trip on a new connection; its duration in seconds."""
    start = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
        s.sendall(b"*1\r\n$4\r\nPING\r\n")
        got = b""
        while not got.endswith(b"\r\n"):
            chunk = s.recv(64)
            if not chunk:
                raise ConnectionError("closed before PONG")
            got += chunk
    assert got == b"+PONG\r\n", got
    return time.monotonic() - start


def run_async_fuzz(main: Callable[[], Coroutine[Any, Any, None]], what: str, seed: int, stats: dict,
             proc: Any) -> None:
    """``asyncio.run(main())``; any failure becomes one AssertionError that names the seed
    (to replay it), the counts so far and the end of the server's log."""
    try:
        asyncio.run(main())
    except BaseException as exc:
        raise AssertionError(f"{what} failed (LEDIS_FUZZ_SEED={seed}): {exc!r}; {stats}; "
                             f"server log ends:\n{proc.log()[-2000:]}") from exc
