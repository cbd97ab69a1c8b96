"""stdlib/leaderboard.lua: modes, ranks, pages, around-me; racing submitters."""

from __future__ import annotations

import pytest

from tests.stdlib_helpers import load_stdlib, race


@pytest.fixture
def c(r):
    load_stdlib(r, "leaderboard")
    yield r


def test_modes_and_queries(c):
    for i in range(1, 21):
        c.fcall("lb_submit", 1, "B", f"p{i}", i * 10)
    assert c.fcall("lb_submit", 1, "B", "p1", 5) == [b"10", 20]  # best keeps 10
    assert c.fcall("lb_submit", 1, "B", "p1", 5, "latest") == [b"5", 20]
    assert c.fcall("lb_submit", 1, "B", "p1", 1000, "sum") == [b"1005", 1]
    assert c.fcall("lb_rank", 1, "B", "p20") == [2, b"200"]
    assert c.fcall("lb_top", 1, "B", 2) == [b"p1", b"1005", b"p20", b"200"]
    assert c.fcall("lb_page", 1, "B", 2, 3)[::2] == [b"p18", b"p17", b"p16"]
    around = c.fcall("lb_around", 1, "B", "p10", 1)
    assert around[0] == 11 and around[1::2] == [b"p11", b"p10", b"p9"]
    assert c.fcall("lb_around", 1, "B", "p1", 2)[0] == 1


def test_racing_sum_submissions_add_up(c, server):
    race(server, 8, 25, lambda cl, t, i: cl.fcall("lb_submit", 1, "RB", f"m{i % 5}", 1, "sum"))
    top = c.fcall("lb_top", 1, "RB", 10)
    assert sorted(float(s) for s in top[1::2]) == [40.0] * 5


def test_racing_best_keeps_maximum(c, server):
    race(server, 6, 30, lambda cl, t, i: cl.fcall("lb_submit", 1, "RB", "m", t * 100 + i))
    assert c.fcall("lb_rank", 1, "RB", "m") == [1, b"529"]
