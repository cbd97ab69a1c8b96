"""SLOWLOG GET/LEN/RESET/HELP: entry shape, truncation, thresholds, errors as Redis 7.0."""

from __future__ import annotations

import pytest
import redis


@pytest.fixture
def logging_all(server):
    c = server.client(protocol=2)
    c.config_set("slowlog-log-slower-than", 0)
    c.execute_command("SLOWLOG", "RESET")
    yield c
    c.config_set("slowlog-log-slower-than", 10000)
    c.config_set("slowlog-max-len", 128)
    c.close()


def test_entries_have_redis_shape(logging_all):
    c = logging_all
    c.client_setname("nm")
    c.set("abc", "def")
    entries = c.execute_command("SLOWLOG", "GET", 2)
    newest, older = entries
    assert newest[0] > older[0]
    assert newest[3] == [b"SET", b"abc", b"def"]
    assert isinstance(newest[1], int) and isinstance(newest[2], int)
    assert newest[4].startswith(b"127.0.0.1:") and newest[5] == b"nm"
    assert older[3] == [b"CLIENT", b"SETNAME", b"nm"]
    assert c.execute_command("SLOWLOG", "LEN") >= 2


def test_long_arguments_and_many_arguments_are_cut(logging_all):
    c = logging_all
    c.execute_command("RPUSH", "l", *[b"x"] * 40)
    c.set("k", b"v" * 200)
    set_entry, push_entry = c.execute_command("SLOWLOG", "GET", 2)
    assert set_entry[3][2] == b"v" * 128 + b"... (72 more bytes)"
    assert len(push_entry[3]) == 32 and push_entry[3][-1] == b"... (11 more arguments)"


def test_threshold_max_len_reset_and_scripts(logging_all):
    c = logging_all
    c.config_set("slowlog-max-len", 3)
    for i in range(10):
        c.set(f"k{i}", i)
    assert c.execute_command("SLOWLOG", "LEN") == 3
    c.execute_command("SLOWLOG", "RESET")
    c.eval("redis.call('set', 'a', 1) return redis.call('get', 'a')", 0)
    names = [e[3][0].lower() for e in c.execute_command("SLOWLOG", "GET", -1)]
    assert b"eval" in names and b"set" not in names and b"get" not in names
    c.config_set("slowlog-log-slower-than", -1)
    c.execute_command("SLOWLOG", "RESET")
    c.set("x", 1)
    assert c.execute_command("SLOWLOG", "LEN") == 0


@pytest.mark.parametrize("args", [("GET", "-2"), ("GET", "abc"), ("GET", "1", "2"), ("foo",),
                                  ("HELP",)])
def test_replies_match_redis(server, ref, args):
    ours = server.client(protocol=2)

    def run(client):
        try:
            return client.execute_command("SLOWLOG", *args)
        except redis.ResponseError as exc:
            return ("error", str(exc))

    assert run(ours) == run(ref)
