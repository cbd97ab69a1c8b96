"""stdlib/rollup.lua: counters under watched prefixes rolled up into per-minute series by a
timer, and reset."""

from __future__ import annotations

import time

import pytest

from ledis.resources import STDLIB_DIR
from tests.stdlib_helpers import load_stdlib

T0 = 1_700_000_000  # a minute start (T0 % 60 == 20: use M0)
M0 = T0 - T0 % 60


@pytest.fixture
def c(r):
    r.function_flush()
    load_stdlib(r, "rollup")
    yield r
    r.function_flush()


def test_run_moves_counters_into_minute_buckets(c):
    assert c.fcall("rollup_watch", 0, "hits:") == 1
    c.incrby("hits:a", 5)
    c.incrby("hits:b", 2)
    c.set("hits:text", "not a number")
    c.hset("hits:hash", "f", 1)
    c.incr("other:a")
    assert c.fcall("rollup_run", 0, T0) == 2
    assert c.get("hits:a") is None and c.get("hits:b") is None  # reset
    assert c.get("hits:text") == b"not a number" and c.get("other:a") == b"1"
    c.incrby("hits:a", 3)
    assert c.fcall("rollup_run", 0, T0 + 30) == 1  # same minute: added to its bucket
    c.incrby("hits:a", 4)
    assert c.fcall("rollup_run", 0, T0 + 60) == 1
    assert c.fcall("rollup_series", 1, "hits:a", 0, 2 * T0) == [M0, 8, M0 + 60, 4]
    assert c.fcall("rollup_series", 1, "hits:a", M0 + 1, 2 * T0) == [M0 + 60, 4]
    assert c.fcall("rollup_series", 1, "hits:b", 0, 2 * T0) == [M0, 2]
    assert c.fcall("rollup_run", 0, T0 + 120) == 0  # series keys are never rolled up


def test_retention_and_unwatch(c):
    c.fcall("rollup_watch", 0, "h:", 120)
    for i in range(5):
        c.incrby("h:x", i + 1)
        c.fcall("rollup_run", 0, M0 + 60 * i)
    # minutes older than 120 s before the last bucket are gone
    assert c.fcall("rollup_series", 1, "h:x", 0, 2 * T0) == [M0 + 120, 3, M0 + 180, 4,
                                                            M0 + 240, 5]
    assert c.fcall("rollup_unwatch", 0, "h:") == 1
    assert c.fcall("rollup_unwatch", 0, "h:") == 0
    c.incr("h:x")
    assert c.fcall("rollup_run", 0, M0 + 300) == 0 and c.get("h:x") == b"1"


def test_glob_characters_in_prefix_are_literal(c):
    c.fcall("rollup_watch", 0, "a*[")
    c.incr("a*[1")
    c.incr("ab[1")
    assert c.fcall("rollup_run", 0, T0) == 1
    assert c.get("ab[1") == b"1"


def test_argument_errors(c):
    import redis

    with pytest.raises(redis.ResponseError, match="prefix is required"):
        c.fcall("rollup_watch", 0)
    with pytest.raises(redis.ResponseError, match="retention_s must be"):
        c.fcall("rollup_watch", 0, "p", "x")
    with pytest.raises(redis.ResponseError, match="ts_s must be"):
        c.fcall("rollup_run", 0, "soon")


def test_timer_rolls_up_live(r):
    r.function_flush()
    code = (STDLIB_DIR / "rollup.lua").read_text()
    assert "local SCHEDULE = {cron = '* * * * *'}" in code
    r.function_load(code.replace("{cron = '* * * * *'}", "{every = '100ms'}"))
    try:
        row = r.execute_command("LEDIS.TIMERS")[0]
        row = row if isinstance(row, dict) else dict(zip(row[::2], row[1::2], strict=True))
        assert row[b"schedule"] == b"every 100ms" and row[b"library"] == b"rollup"
        r.fcall("rollup_watch", 0, "live:")
        total = 0
        for i in range(10):
            r.incrby("live:n", i)
            total += i
            time.sleep(0.03)
        deadline = time.time() + 5
        while r.exists("live:n") and time.time() < deadline:
            time.sleep(0.05)
        assert not r.exists("live:n")
        series = r.fcall("rollup_series", 1, "live:n", 0, 2 * int(time.time()))
        assert sum(series[1::2]) == total  # nothing lost or counted twice
        assert all(m % 60 == 0 for m in series[::2])
    finally:
        r.function_flush()


def test_stock_library_uses_a_cron_minute(c):
    row = c.execute_command("LEDIS.TIMERS")[0]
    row = row if isinstance(row, dict) else dict(zip(row[::2], row[1::2], strict=True))
    assert row[b"schedule"] == b"cron * * * * *"
    assert row[b"next_run_ms"] % 60_000 == 0
