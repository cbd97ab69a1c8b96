"""stdlib libraries inside a Python program, no server: ledis.open + function_load + fcall.

    python examples/embedded_stdlib.py
"""

import ledis
from ledis.resources import STDLIB_DIR

with ledis.open(memory=True) as db:
    for name in ("queue", "lock"):
        db.function_load((STDLIB_DIR / f"{name}.lua").read_text(), replace=True)

    for i in range(3):
        db.fcall("q_push", ["jobs"], [f"job-{i}"])
    while True:
        job = db.fcall("q_reserve", ["jobs"], [30_000])
        if job is None:
            break
        job_id, payload, attempt = job
        token = db.fcall("lock_acquire", ["lock:report"], ["me", 1000])
        print(f"working on {payload!r} (attempt {attempt}) under lock token {token}")
        db.fcall("lock_release", ["lock:report"], ["me", token])
        db.fcall("q_ack", ["jobs"], [job_id, attempt])
    stats = db.fcall_ro("q_stats", ["jobs"])
    print("stats", dict(zip(stats[::2], stats[1::2], strict=True)))
