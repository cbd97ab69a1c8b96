"""The HyperLogLog algorithm module on its own (``ledis.storage.types.hll``): the fast paths
against the plain ones, the register packing, and Redis's documented sparse examples."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ledis.errors import LedisError
from ledis.storage.types import hll


def test_lane_parallel_hash_equals_scalar_for_every_length():
    rng = random.Random(1)
    items = [bytes(rng.randrange(256) for _ in range(n % 70)) for n in range(700)]
    assert hll.hash_many(items) == [hll.murmur64a(e) for e in items]
    same = [b"user:%06d" % i for i in range(5000)]  # one length: a single lane group
    assert hll.hash_many(same) == [hll.murmur64a(e) for e in same]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=30), min_size=16, max_size=80))
def test_hash_many_property(items):
    assert hll.hash_many(items) == [hll.murmur64a(e) for e in items]


def test_pattern_ranges():
    for i in range(2000):
        index, run = hll.pattern(b"%d" % i)
        assert 0 <= index < hll.REGISTERS
        assert 1 <= run <= hll.Q + 1


def test_dense_packing_round_trip_and_layout():
    rng = random.Random(2)
    regs = bytes(rng.randrange(64) for _ in range(hll.REGISTERS))
    packed = hll._pack_dense(regs)
    assert len(packed) == hll.DENSE_BYTES
    assert hll._unpack_dense(packed) == regs
    # Redis's layout: register 0 in the low 6 bits of byte 0, register 1 starts at bit 6.
    buf = bytearray(hll.DENSE_SIZE)
    buf[:5] = b"HYLL\x00"
    assert hll._dense_set(buf, 0, 0x3F)
    assert hll._dense_set(buf, 1, 0x21)
    assert hll._dense_set(buf, hll.REGISTERS - 1, 0x2A)
    assert buf[16] == 0x7F and buf[17] == 0x08
    assert buf[-1] == 0x2A << 2
    assert not hll._dense_set(buf, 1, 0x20)  # never lowers a register
    expected = bytearray(hll.REGISTERS)
    expected[0], expected[1], expected[-1] = 0x3F, 0x21, 0x2A
    assert hll.registers(bytes(buf)) == bytes(expected)


def _xzero(n: int) -> bytes:
    return bytes((0x40 | (n - 1) >> 8, (n - 1) & 0xFF))


def test_new_value_and_redis_sparse_example():
    """hyperloglog.c's example: registers 1000, 1020, 1021 set to 2, 3, 3 is
    XZERO:1000 VAL:2,1 ZERO:19 VAL:3,2 XZERO:15362."""
    assert hll.EMPTY == b"HYLL\x01\x00\x00\x00" + b"\x00" * 8 + b"\x7f\xff"
    buf = bytearray(hll.EMPTY)
    assert hll._sparse_set(buf, 1000, 2, 3000) == 1
    assert hll._sparse_set(buf, 1020, 3, 3000) == 1
    assert hll._sparse_set(buf, 1021, 3, 3000) == 1
    assert hll._sparse_set(buf, 1021, 2, 3000) == 0
    assert bytes(buf[16:]) == _xzero(1000) + b"\x84" + bytes([18]) + b"\x89" + _xzero(15362)
    assert buf[15] & 0x80  # the cached count is invalid after a change


def test_count_caches_and_empty_is_zero():
    value, changed = hll.add(None, [])
    assert changed == 1  # creating the key counts as a change
    card, cached = hll.count(value)
    assert card == 0 and cached is not None and not cached[15] & 0x80
    assert hll.count(cached) == (0, None)


def test_promotion_to_dense():
    value, _ = hll.add(None, [b"x%d" % i for i in range(100)])
    assert value[4] == hll.SPARSE
    assert abs(hll.count(value)[0] - 100) <= 2  # exact equality with Redis: the diff tests
    value, _ = hll.add(value, [b"y%d" % i for i in range(3000)])
    assert value[4] == hll.DENSE and len(value) == hll.DENSE_SIZE
    # A register above 32 cannot be sparse: a tiny max size forces dense at once.
    tiny, _ = hll.add(None, [b"a"], max_bytes=0)
    assert tiny[4] == hll.DENSE


def test_batch_and_one_by_one_agree_once_dense():
    items = [b"k%d" % i for i in range(6000)]
    whole, _ = hll.add(None, items)
    step = None
    for i in range(0, len(items), 500):
        step, _ = hll.add(step, items[i:i + 500])
    assert whole == step


@pytest.mark.parametrize("bad", [
    b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80\x40\x63",  # cache invalid: recount
    b"HYLL\x01\x00\x00\x00" + b"\x00" * 7 + b"\x80\x7f\xfe\x80\x80",
])
def test_corrupted_sparse_is_invalid(bad):
    with pytest.raises(LedisError, match="INVALIDOBJ"):
        hll.count(bad)
    with pytest.raises(LedisError, match="INVALIDOBJ"):
        hll.registers(bad)


def test_is_hll():
    assert hll.is_hll(hll.EMPTY)
    assert not hll.is_hll(b"HYLL\x00" + b"\x00" * 11)  # dense of the wrong length
    assert not hll.is_hll(b"HYLL\x02" + b"\x00" * 11)
    assert not hll.is_hll(b"nope")
