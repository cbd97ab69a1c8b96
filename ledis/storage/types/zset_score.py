"""Sorted-set scores as bytes, and the ranges over them (``ledis/storage/types/zset.py``'s
layout uses both).

``encode_score`` maps an IEEE double to 8 bytes whose byte order is the numeric order: the
sign bit is flipped for positive numbers, all bits for negative ones, so the ``zscore`` family
sorts by (score, member) like Redis's skiplist, -inf and +inf included; -0.0 encodes like
0.0. ``ScoreRange`` / ``LexRange`` hold a parsed ``ZRANGEBYSCORE`` / ``ZRANGEBYLEX`` range and
give the ``[start, end)`` keys it covers in the ``zscore`` / ``data`` family.
"""

from __future__ import annotations

import struct

from ledis.storage import layout
from ledis.storage.layout import U64

_DOUBLE = struct.Struct(">d")
_U64_pack = U64.pack
_U64_unpack = U64.unpack
_D_unpack = _DOUBLE.unpack
# encode_score's pieces, for ZADD's inline copy of it (zset.add, its hot path)
pack_double = _DOUBLE.pack
SIGN = 1 << 63
ALL_BITS = (1 << 64) - 1


def encode_score(score: float) -> bytes:
    """Order-preserving 8 bytes for a (non-NaN) double; -0.0 encodes like 0.0."""
    bits = _U64_unpack(pack_double(score + 0.0))[0]
    return _U64_pack(bits ^ ALL_BITS if bits & SIGN else bits | SIGN)


def _decode(raw: bytes) -> float:
    bits = _U64_unpack(raw)[0]
    return _D_unpack(_U64_pack(bits ^ SIGN if bits & SIGN else bits ^ ALL_BITS))[0]


# Range replies decode one score per element; real data repeats scores a lot (counters,
# timestamps in a window, equal-score lex sets), and a dict hit costs a fraction of the
# unpack/pack/unpack above. Bounded and emptied when full, so it follows the scores in use
# (kept once full at 65,536 entries, random scores filled it slowly: docs/soak.md).
_DECODED: dict[bytes, float] = {}
_DECODED_MAX = 4096


def decode_score(raw: bytes) -> float:
    value = _DECODED.get(raw)
    if value is None:
        value = _decode(raw)
        if len(_DECODED) >= _DECODED_MAX:
            _DECODED.clear()
        _DECODED[raw] = value
    return value


# --- ranges -------------------------------------------------------------------------------

SKIP_BY_RANK = 1024  # a LIMIT offset from which an indexed zset seeks by rank (not walks)


class ScoreRange:
    """``min``/``max`` with exclusivity, as parsed from ``(1.5`` / ``-inf`` ..."""

    __slots__ = ("min", "max", "minex", "maxex")

    def __init__(self, lo: float, hi: float, minex: bool = False, maxex: bool = False) -> None:
        self.min, self.max, self.minex, self.maxex = lo, hi, minex, maxex

    def empty(self) -> bool:
        return self.min > self.max or (self.min == self.max and (self.minex or self.maxex))

    def bounds(self, prefix: bytes) -> tuple[bytes, bytes]:
        """``[start, end)`` of the ``zscore`` keys in range."""
        lo = prefix + encode_score(self.min)
        hi = prefix + encode_score(self.max)
        return (layout.prefix_end(lo) if self.minex else lo,
                hi if self.maxex else layout.prefix_end(hi))


class LexRange:
    """A lex range: ``min``/``max`` are bytes, or None for ``-`` / ``+`` (unbounded)."""

    __slots__ = ("min", "max", "minex", "maxex", "min_inf", "max_inf")

    def __init__(self, lo: bytes | None, hi: bytes | None, minex: bool, maxex: bool,
                 min_inf: int = 0, max_inf: int = 0) -> None:
        # min_inf/max_inf: -1 for '-', +1 for '+', 0 for a real string.
        self.min, self.max, self.minex, self.maxex = lo, hi, minex, maxex
        self.min_inf, self.max_inf = min_inf, max_inf

    def bounds(self, prefix: bytes) -> tuple[bytes, bytes] | None:
        """``[start, end)`` of the ``data`` keys in range, None when nothing can match."""
        if self.min_inf > 0 or self.max_inf < 0:
            return None
        if self.min_inf < 0:
            start = prefix
        else:
            start = prefix + self.min + (b"\x00" if self.minex else b"")  # type: ignore[operator]
        if self.max_inf > 0:
            end = layout.prefix_end(prefix)
        else:
            end = prefix + self.max + (b"" if self.maxex else b"\x00")  # type: ignore[operator]
        return (start, end) if start < end else None
