"""Expiry: EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT with NX/XX/GT/LT, TTL/PTTL, EXPIRETIME,
PERSIST, lazy expiry at the metadata gate, active expiry in the background, and restarts."""

from __future__ import annotations

import time

import pytest
import redis


def err(fn, *args):
    with pytest.raises(redis.ResponseError) as info:
        fn(*args)
    return str(info.value)


def test_ttl_missing_and_persistent(r):
    assert r.ttl("nope") == -2
    assert r.pttl("nope") == -2
    assert r.expiretime("nope") == -2
    assert r.execute_command("PEXPIRETIME", "nope") == -2
    r.set("k", 1)
    assert r.ttl("k") == -1
    assert r.pttl("k") == -1
    assert r.expiretime("k") == -1
    assert r.execute_command("PEXPIRETIME", "k") == -1


def test_expire_and_ttl(r):
    r.set("k", 1)
    assert r.expire("k", 100) is True
    assert r.ttl("k") == 100
    assert 99_000 < r.pttl("k") <= 100_000
    assert r.pexpire("k", 5500) is True
    assert r.ttl("k") in (5, 6)  # rounded like Redis: (ms + 500) / 1000
    assert r.expire("nope", 100) is False


def test_expireat_and_expiretime(r):
    r.set("k", 1)
    at = int(time.time()) + 1000
    assert r.expireat("k", at) is True
    assert r.expiretime("k") == at
    assert r.execute_command("PEXPIRETIME", "k") == at * 1000
    assert r.pexpireat("k", at * 1000 + 123) is True
    assert r.execute_command("PEXPIRETIME", "k") == at * 1000 + 123


def test_past_or_zero_time_deletes(r):
    for cmd, arg in (("EXPIRE", "0"), ("EXPIRE", "-5"), ("PEXPIRE", "0"), ("EXPIREAT", "1"),
                     ("PEXPIREAT", "0"), ("EXPIREAT", "-10")):
        r.set("k", 1)
        assert r.execute_command(cmd, "k", arg) == 1, cmd
        assert r.exists("k") == 0
        assert r.dbsize() == 0


def test_nx_xx_gt_lt(r):
    r.set("k", 1)
    assert r.expire("k", 100, xx=True) is False
    assert r.expire("k", 100, gt=True) is False  # no TTL counts as infinite
    assert r.expire("k", 100, lt=True) is True
    assert r.expire("k", 50, nx=True) is False
    assert r.expire("k", 200, lt=True) is False
    assert r.expire("k", 50, lt=True) is True
    assert r.expire("k", 40, gt=True) is False
    assert r.expire("k", 60, gt=True) is True
    assert r.expire("k", 70, xx=True) is True
    assert r.ttl("k") == 70
    r.persist("k")
    assert r.expire("k", 10, nx=True) is True
    assert r.execute_command("EXPIRE", "k", "20", "XX", "GT") == 1
    assert r.ttl("k") == 20


def test_expire_option_errors(r):
    r.set("k", 1)
    assert err(r.execute_command, "EXPIRE", "k", "10", "NX", "XX") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r.execute_command, "EXPIRE", "k", "10", "NX", "GT") == \
        "NX and XX, GT or LT options at the same time are not compatible"
    assert err(r.execute_command, "EXPIRE", "k", "10", "GT", "LT") == \
        "GT and LT options at the same time are not compatible"
    assert err(r.execute_command, "EXPIRE", "k", "10", "foo") == "Unsupported option foo"
    # options are checked before the number, like Redis
    assert err(r.execute_command, "EXPIRE", "k", "abc", "foo") == "Unsupported option foo"
    assert err(r.execute_command, "EXPIRE", "k", "abc") == \
        "value is not an integer or out of range"
    assert err(r.execute_command, "PEXPIRE", "k", "1.5") == \
        "value is not an integer or out of range"
    assert r.ttl("k") == -1


def test_expire_overflow(r):
    r.set("k", 1)
    assert err(r.execute_command, "EXPIRE", "k", "9999999999999999") == \
        "invalid expire time in 'expire' command"
    assert err(r.execute_command, "EXPIRE", "k", "-9999999999999999") == \
        "invalid expire time in 'expire' command"
    assert err(r.execute_command, "PEXPIRE", "k", "9223372036854775807") == \
        "invalid expire time in 'pexpire' command"
    assert err(r.execute_command, "EXPIREAT", "k", "9223372036854776") == \
        "invalid expire time in 'expireat' command"
    assert r.execute_command("PEXPIREAT", "k", "9223372036854775807") == 1
    assert r.ttl("k") > 10**9
    assert r.execute_command("EXPIREAT", "k", "9223372036854775") == 1


def test_persist(r):
    r.set("k", 1)
    assert r.persist("k") is False
    r.expire("k", 100)
    assert r.persist("k") is True
    assert r.ttl("k") == -1
    assert r.persist("nope") is False


def test_set_clears_ttl(r):
    r.set("k", 1)
    r.expire("k", 100)
    r.set("k", 2)
    assert r.ttl("k") == -1


def test_lazy_expiry(r):
    r.set("k", 1)
    r.pexpire("k", 50)
    assert r.get("k") == b"1"
    time.sleep(0.08)
    assert r.get("k") is None
    assert r.exists("k") == 0
    assert r.ttl("k") == -2
    assert r.type("k") == b"none"
    assert r.expire("k", 100) == 0
    assert r.persist("k") is False
    # a new SET after expiry starts clean
    r.set("k", 2)
    assert r.ttl("k") == -1 and r.get("k") == b"2"


def test_active_expiry_without_reads(r):
    """Keys disappear from DBSIZE without anyone reading them (the cron walks the index)."""
    pipe = r.pipeline(transaction=False)
    for i in range(500):
        pipe.set(f"t{i}", i)
        pipe.pexpire(f"t{i}", 100)
    for i in range(20):
        pipe.set(f"keep{i}", i)
    pipe.execute()
    assert r.dbsize() == 520
    deadline = time.time() + 5
    while time.time() < deadline and r.dbsize() != 20:
        time.sleep(0.05)
    assert r.dbsize() == 20
    assert sorted(r.keys("*")) == sorted(f"keep{i}".encode() for i in range(20))


def test_expire_changes_keep_index_consistent(r):
    """Changing a TTL many times leaves one index entry: the key expires once, at the last
    time set, and DBSIZE ends at 0."""
    r.set("k", 1)
    for ms in (100_000, 50, 200_000, 30_000):
        r.pexpire("k", ms)
    r.pexpire("k", 100)
    time.sleep(0.4)
    assert r.dbsize() == 0


def test_expired_keys_stay_gone_after_restart(fresh_server):
    srv = fresh_server("--appendfsync", "always")
    c = srv.client()
    c.set("short", 1)
    c.pexpire("short", 100)
    c.set("long", 1)
    c.expire("long", 1000)
    c.set("plain", 1)
    srv.kill()  # before the active expiry could run, maybe
    time.sleep(0.2)
    srv.start()
    c = srv.client()
    assert c.get("short") is None
    assert c.ttl("long") > 990
    assert c.get("plain") == b"1"
    deadline = time.time() + 3
    while time.time() < deadline and c.dbsize() != 2:
        time.sleep(0.05)
    assert c.dbsize() == 2
    srv.restart()
    c = srv.client()
    assert c.dbsize() == 2
    assert sorted(c.keys("*")) == [b"long", b"plain"]
