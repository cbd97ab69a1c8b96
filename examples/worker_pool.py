"""A pool of worker processes consuming stdlib/queue.lua; the worker that first gets job-5
crashes mid-job and the job is redelivered to another worker after the visibility timeout.
No job is lost.

    python examples/worker_pool.py [--port 6380] [--jobs 40] [--workers 3]
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

import redis

from ledis.resources import STDLIB_DIR

QUEUE = "ex:jobs"
VISIBILITY_MS = 500


def worker(port: int, crash_on: str | None, results: mp.Queue[tuple[int, str, int]]) -> None:
    r = redis.Redis(port=port, decode_responses=True)
    idle_since = time.time()
    while time.time() - idle_since < 2.0:
        job = r.fcall("q_reserve", 1, QUEUE, VISIBILITY_MS, 5)
        if job is None:
            time.sleep(0.05)
            continue
        idle_since = time.time()
        job_id, payload, attempt = job
        if payload == crash_on and attempt == 1:
            print(f"[{os.getpid()}] crashing while holding job {job_id} ({payload})", flush=True)
            results.close()
            results.join_thread()  # flush our finished results: a half-written one would jam
            os._exit(1)  # no ack: the job comes back after VISIBILITY_MS
        time.sleep(0.01)  # the "work"
        if r.fcall("q_ack", 1, QUEUE, job_id, attempt) == 1:
            results.put((os.getpid(), payload, attempt))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=6380)
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3)
    args = parser.parse_args()
    r = redis.Redis(port=args.port, decode_responses=True)
    r.function_load((STDLIB_DIR / "queue.lua").read_text(), replace=True)
    r.delete(*[f"{QUEUE}:{s}" for s in ("ready", "delayed", "inflight", "jobs", "attempts",
                                        "dead", "seq", "stats")])
    for i in range(args.jobs):
        r.fcall("q_push", 1, QUEUE, f"job-{i}")
    results: mp.Queue = mp.Queue()
    procs = [mp.Process(target=worker, args=(args.port, "job-5", results))
             for _ in range(args.workers)]
    for p in procs:
        p.start()
    done: dict[str, tuple[int, int]] = {}
    deadline = time.time() + 30
    while len(done) < args.jobs and time.time() < deadline:
        try:
            pid, payload, attempt = results.get(timeout=0.5)
        except Exception:
            continue
        done[payload] = (pid, attempt)
    for p in procs:
        p.join(10)
    stats = r.fcall("q_stats", 1, QUEUE)
    print("stats", dict(zip(stats[::2], stats[1::2], strict=True)))
    redelivered = {k: v for k, v in done.items() if v[1] > 1}
    print(f"processed {len(done)}/{args.jobs} jobs; redelivered after a crash: {redelivered}")
    return 0 if len(done) == args.jobs else 1


if __name__ == "__main__":
    raise SystemExit(main())
