"""Shared bits of the stdlib tests: load a stdlib/ library, run racing clients."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from ledis.resources import STDLIB_DIR


def load_stdlib(client, name: str) -> None:
    client.function_load((STDLIB_DIR / f"{name}.lua").read_text(), replace=True)


def race(server, n_threads: int, per_thread: int, call: Callable[[Any, int, int], Any]) -> list:
    """Run ``call(client, thread, i)`` ``per_thread`` times in each of ``n_threads`` threads
    started together; returns every result."""
    results: list = []
    lock = threading.Lock()
    barrier = threading.Barrier(n_threads)

    def worker(t: int) -> None:
        cl = server.client()
        barrier.wait()
        for i in range(per_thread):
            value = call(cl, t, i)
            with lock:
                results.append(value)
        cl.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in range(n_threads)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert len(results) == n_threads * per_thread
    return results
