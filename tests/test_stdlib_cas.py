"""stdlib/cas.lua: versioned values; racing writers never lose an update."""

from __future__ import annotations

import pytest
import redis

from tests.stdlib_helpers import load_stdlib, race


@pytest.fixture
def c(r):
    load_stdlib(r, "cas")
    yield r


def test_versions(c):
    assert c.fcall("cas_get", 1, "K") == [None, 0]
    assert c.fcall("cas_set", 1, "K", 0, "a") == 1
    with pytest.raises(redis.ResponseError, match="CONFLICT current version is 1"):
        c.fcall("cas_set", 1, "K", 0, "b")
    assert c.fcall("cas_set", 1, "K", 1, "b") == 2
    assert c.fcall("cas_get", 1, "K") == [b"b", 2]
    assert c.fcall("cas_delete", 1, "K", 1) == 0
    assert c.fcall("cas_delete", 1, "K", 2) == 1


def test_racing_read_modify_write_loses_nothing(c, server):
    """Each client adds 1 to a number with get + cas_set, retrying on conflict."""
    c.fcall("cas_set", 1, "ctr", 0, "0")

    def add_one(cl, t, i):
        conflicts = 0
        while True:
            value, version = cl.fcall("cas_get", 1, "ctr")
            try:
                cl.fcall("cas_set", 1, "ctr", version, str(int(value) + 1))
                return conflicts
            except redis.ResponseError as exc:
                assert "CONFLICT" in str(exc)
                conflicts += 1

    race(server, 6, 15, add_one)
    assert c.fcall("cas_get", 1, "ctr") == [b"90", 91]
