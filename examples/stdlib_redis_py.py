"""Load stdlib libraries and call them from redis-py.

    python examples/stdlib_redis_py.py [--port 6380]
"""

from __future__ import annotations

import argparse

import redis

from ledis.resources import STDLIB_DIR


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6380)
    args = parser.parse_args()
    r = redis.Redis(port=args.port, decode_responses=True)
    for name in ("lock", "ratelimit", "leaderboard"):
        print("loaded", r.function_load((STDLIB_DIR / f"{name}.lua").read_text(), replace=True))
    r.delete("ex:lock", "ex:lock:fence", "ex:win", "ex:board")

    token = r.fcall("lock_acquire", 1, "ex:lock", "worker-1", 5000)
    print("lock token", token, "owner", r.fcall_ro("lock_owner", 1, "ex:lock"))
    print("released", r.fcall("lock_release", 1, "ex:lock", "worker-1", token))

    for i in range(4):  # 3 requests per 10 s window
        allowed, remaining, retry_ms = r.fcall("rl_window", 1, "ex:win", 3, 10_000)
        print(f"request {i}: allowed={allowed} remaining={remaining} retry_after_ms={retry_ms}")

    for player, score in (("ann", 30), ("bob", 50), ("cid", 40)):
        r.fcall("lb_submit", 1, "ex:board", player, score)
    print("top", r.fcall_ro("lb_top", 1, "ex:board", 3))
    print("cid", r.fcall_ro("lb_rank", 1, "ex:board", "cid"))


if __name__ == "__main__":
    main()
