"""ledis/scripting/timers.py: the every / cron schedule parsers, with fixed UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ledis.errors import LedisError
from ledis.scripting.timers import Cron, Timer, parse_every


def ts(*args: int) -> float:
    return datetime(*args, tzinfo=UTC).timestamp()


def nxt(expr: str, *start: int) -> datetime:
    return datetime.fromtimestamp(Cron(expr).next_after(ts(*start)), UTC).replace(
        tzinfo=None)


@pytest.mark.parametrize("text,ms", [("250ms", 250), ("5s", 5000), ("1m", 60_000),
                                     ("2h", 7_200_000), ("100", 100), (" 10 ms ", 10)])
def test_every_units(text, ms):
    assert parse_every(text) == ms


@pytest.mark.parametrize("text", ["", "5x", "-1s", "1.5s", "9ms", "0s", "s", "1 d"])
def test_every_rejects(text):
    with pytest.raises(LedisError, match="invalid every"):
        parse_every(text)


def test_cron_every_minute_is_strictly_after():
    assert nxt("* * * * *", 2026, 3, 1, 12, 0, 0) == datetime(2026, 3, 1, 12, 1)
    assert nxt("* * * * *", 2026, 3, 1, 12, 0, 59) == datetime(2026, 3, 1, 12, 1)


def test_cron_steps_lists_ranges():
    assert nxt("*/5 * * * *", 2026, 3, 1, 12, 3) == datetime(2026, 3, 1, 12, 5)
    assert nxt("*/5 * * * *", 2026, 3, 1, 12, 55) == datetime(2026, 3, 1, 13, 0)
    assert nxt("7,22 * * * *", 2026, 3, 1, 12, 7) == datetime(2026, 3, 1, 12, 22)
    assert nxt("0 9-17/4 * * *", 2026, 3, 1, 13, 0) == datetime(2026, 3, 1, 17, 0)
    assert nxt("0 9-17/4 * * *", 2026, 3, 1, 17, 0) == datetime(2026, 3, 2, 9, 0)
    assert nxt("10/20 * * * *", 2026, 3, 1, 12, 11) == datetime(2026, 3, 1, 12, 30)


def test_cron_day_month_rollover_and_leap_day():
    assert nxt("30 23 31 12 *", 2026, 6, 1) == datetime(2026, 12, 31, 23, 30)
    assert nxt("0 0 1 1 *", 2026, 12, 31, 23, 59) == datetime(2027, 1, 1, 0, 0)
    assert nxt("0 0 29 2 *", 2026, 1, 1) == datetime(2028, 2, 29, 0, 0)
    assert nxt("0 0 1 */3 *", 2026, 2, 10) == datetime(2026, 4, 1, 0, 0)


def test_cron_weekdays_and_vixie_or_rule():
    # 2026-03-01 is a Sunday
    assert nxt("0 8 * * 1-5", 2026, 3, 1, 9) == datetime(2026, 3, 2, 8, 0)  # Monday
    assert nxt("0 8 * * 0", 2026, 3, 2) == datetime(2026, 3, 8, 8, 0)
    assert nxt("0 8 * * 7", 2026, 3, 2) == datetime(2026, 3, 8, 8, 0)  # 7 is Sunday too
    # both restricted: the 15th OR a Friday, whichever comes first
    assert nxt("0 0 15 * 5", 2026, 3, 1) == datetime(2026, 3, 6, 0, 0)
    assert nxt("0 0 15 * 5", 2026, 3, 13, 1) == datetime(2026, 3, 15, 0, 0)


@pytest.mark.parametrize("expr", ["* * * *", "* * * * * *", "60 * * * *", "* 24 * * *",
                                  "* * 0 * *", "* * * 13 *", "* * * * 8", "*/0 * * * *",
                                  "5-1 * * * *", "a * * * *", "1,,2 * * * *",
                                  "0 0 31 2 *"])
def test_cron_rejects(expr):
    with pytest.raises(LedisError, match="invalid cron"):
        Cron(expr).next_after(ts(2026, 1, 1))


def test_due_after_coalesces_from_the_last_run():
    t = Timer(b"lib", b"t", 1000, None, None)
    assert t.due_after(0, 50_000) == 51_000  # never ran: one period from now
    assert t.due_after(10_000, 50_000) == 11_000  # overdue: the caller runs it once, now
    c = Timer(b"lib", b"c", None, Cron("*/5 * * * *"), None)
    last = int(ts(2026, 3, 1, 12, 3) * 1000)
    assert c.due_after(last, last + 1) == int(ts(2026, 3, 1, 12, 5) * 1000)
