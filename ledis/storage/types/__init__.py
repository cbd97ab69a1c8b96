"""One module per data type, working on Python values through the metadata gate."""

from __future__ import annotations


def clip_range(start: int, stop: int, size: int) -> tuple[int, int] | None:
    """Redis's index rules for LRANGE, LTRIM, ZRANGE and ZREMRANGEBYRANK: negative indexes
    count from the end, out-of-range ones are clamped. Returns inclusive (start, stop), or
    None when the range is empty."""
    if start < 0:
        start += size
    if stop < 0:
        stop += size
    if start < 0:
        start = 0
    if start > stop or start >= size:
        return None
    if stop >= size:
        stop = size - 1
    return start, stop


def clamp_span(start: int, end: int, total: int) -> tuple[int, int]:
    """Redis's index rules for GETRANGE, BITCOUNT and BITPOS: negative indexes count from the
    end (clamped at 0), ``end`` is cut at the last index. The span is empty when start > end."""
    if start < 0:
        start = max(total + start, 0)
    if end < 0:
        end = max(total + end, 0)
    if end >= total:
        end = total - 1
    return start, end
