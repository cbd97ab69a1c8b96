"""SLOWLOG: the last ``slowlog-max-len`` commands that ran longer than
``slowlog-log-slower-than`` microseconds, recorded by the dispatcher.

Entries have Redis's shape: ``[id, unix time, duration_us, args, client addr, client name]``
with at most 32 arguments (the last one then says ``... (N more arguments)``) and each argument
cut to 128 bytes (``... (N more bytes)``). As in Redis, commands run by scripts are not logged
on their own (the EVAL/FCALL is), nor are commands flagged ``skip_slowlog`` (EXEC: its queued
commands are logged one by one).
"""

from __future__ import annotations

import time
from collections import deque
from typing import Any

MAX_ARGS = 32
MAX_ARG_LEN = 128


class SlowLog:
    def __init__(self, threshold_us: int = 10000, max_len: int = 128) -> None:
        self.entries: deque[list[Any]] = deque(maxlen=max(max_len, 0))
        self.next_id = 0
        self.threshold = float("inf")
        self.configure(threshold_us, max_len)

    def configure(self, threshold_us: int | None = None, max_len: int | None = None) -> None:
        """Apply ``slowlog-log-slower-than`` (negative: off, 0: everything) / ``-max-len``."""
        if threshold_us is not None:
            self.threshold = float("inf") if threshold_us < 0 else float(threshold_us)
        if max_len is not None:
            self.entries = deque(self.entries, maxlen=max(max_len, 0))

    def add(self, ctx: Any, argv: list[bytes], usec: float) -> None:
        args = argv[:MAX_ARGS]
        if len(argv) > MAX_ARGS:
            args = argv[: MAX_ARGS - 1] + [b"... (%d more arguments)" % (len(argv) - MAX_ARGS + 1)]
        shown = [
            a if len(a) <= MAX_ARG_LEN
            else a[:MAX_ARG_LEN] + b"... (%d more bytes)" % (len(a) - MAX_ARG_LEN)
            for a in args
        ]
        self.entries.appendleft([self.next_id, int(time.time()), int(usec), shown,
                                 ctx.addr.encode(), ctx.name])
        self.next_id += 1

    def get(self, count: int) -> list[list[Any]]:
        entries = list(self.entries)
        return entries if count < 0 else entries[:count]

    def reset(self) -> None:
        self.entries.clear()


# --- LATENCY samples ------------------------------------------------------------------------
# Recorded by the dispatcher (ledis/core.py ``_after``) and the expiry cycle when an event
# takes longer than latency-monitor-threshold; read by LATENCY (ledis/commands/latency.py).
LATENCY_SAMPLES = 160


def latency_add(core: Any, event: str, ms: int) -> None:
    """Record one latency sample (ms) for ``event`` (Redis keeps one sample per second)."""
    now = int(time.time())
    ev = core.latency.get(event)
    if ev is None:
        ev = core.latency[event] = {"samples": [], "max": 0}
    ev["max"] = max(ev["max"], ms)
    samples = ev["samples"]
    if samples and samples[-1][0] == now:
        samples[-1][1] = max(samples[-1][1], ms)
    else:
        samples.append([now, ms])
        if len(samples) > LATENCY_SAMPLES:
            del samples[0]
