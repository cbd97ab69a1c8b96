"""Benchmark row for docs/embedding.md: embedded calls vs the same through redis-py.

    python examples/embedded_bench.py [N]

Runs N ``SET`` and N ``EVAL`` calls on an embedded store (one process, one thread), then the
same through redis-py (``-P 1``: one round trip per call) to the served embedded store and to
a ledis server process it starts on a free port, and prints ops/s for each.
"""

from __future__ import annotations

import sys
import time

import ledis

SCRIPT = "return redis.call('SET', KEYS[1], ARGV[1])"


def rate(fn, n: int) -> float:
    start = time.perf_counter()
    for i in range(n):
        fn(i)
    return n / (time.perf_counter() - start)


def separate_server(n: int) -> list[tuple[str, float]]:
    """redis-py to a ledis server in its own process (the usual deployment)."""
    import shutil
    import socket
    import subprocess
    import tempfile

    import redis

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = tempfile.mkdtemp(prefix="ledis-bench-")
    proc = subprocess.Popen([sys.executable, "-m", "ledis", "server", "--port", str(port),
                             "--dir", data, "--loglevel", "warning"])
    try:
        client = redis.Redis(port=port)
        for _ in range(200):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        rows = [("redis-py SET, server process", rate(lambda i: client.set("k", i), n)),
                ("redis-py EVAL, server process",
                 rate(lambda i: client.eval(SCRIPT, 1, "k", i), n))]
        client.close()
        return rows
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(data, ignore_errors=True)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    rows = []
    with ledis.open(memory=True) as db:
        rows.append(("embedded execute SET", rate(lambda i: db.execute("SET", "k", i), n)))
        rows.append(("embedded eval", rate(lambda i: db.eval(SCRIPT, ["k"], [i]), n)))
        port = db.serve(port=0)  # the same store served: redis-py goes over TCP
        rows.append(("embedded SET after serve()", rate(lambda i: db.execute("SET", "k", i), n)))
        import redis

        client = redis.Redis(port=port)
        rows.append(("redis-py SET to ledis", rate(lambda i: client.set("k", i), n)))
        rows.append(("redis-py EVAL to ledis", rate(lambda i: client.eval(SCRIPT, 1, "k", i), n)))
        client.close()
    rows += separate_server(n)
    for name, value in rows:
        print(f"{name:30s} {value:10.0f} ops/s")


if __name__ == "__main__":
    main()
