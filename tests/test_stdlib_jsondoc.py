"""stdlib/jsondoc.lua: JSON documents by path; racing path updates stay consistent."""

from __future__ import annotations

import json

import pytest
import redis

from tests.stdlib_helpers import load_stdlib, race


@pytest.fixture
def c(r):
    load_stdlib(r, "jsondoc")
    yield r


def test_paths(c):
    assert c.fcall("json_set", 1, "D", "$", json.dumps({"a": {"b": [1, 2, 3]}})) == b"OK"
    assert c.fcall("json_set", 1, "D", "user.name", '"ann"') == b"OK"
    assert json.loads(c.fcall("json_get", 1, "D", "user")) == {"name": "ann"}
    assert json.loads(c.fcall("json_get", 1, "D", "a.b.0")) == 1
    assert c.fcall("json_del", 1, "D", "a.b.0") == 1
    assert json.loads(c.fcall("json_get", 1, "D", "a.b")) == [2, 3]
    assert c.fcall("json_get", 1, "D", "nope.x") is None
    with pytest.raises(redis.ResponseError, match="invalid JSON"):
        c.fcall("json_set", 1, "D", "x", "{oops")
    c.expire("D", 100)
    assert c.fcall("json_del", 1, "D", "$") == 1
    assert c.exists("D") == 0


def test_racing_increments_and_fields(c, server):
    race(server, 6, 20, lambda cl, t, i: (cl.fcall("json_incr", 1, "RD", "hits", 1),
                                          cl.fcall("json_set", 1, "RD", f"w.t{t}", str(i))))
    doc = json.loads(c.fcall("json_get", 1, "RD"))
    assert doc["hits"] == 120
    assert doc["w"] == {f"t{t}": 19 for t in range(6)}
