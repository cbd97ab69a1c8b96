"""glibc's allocator, seen and asked from Python (ctypes): ``info()`` reads ``mallinfo2`` for
MEMORY STATS, ``trim()`` is ``malloc_trim(0)`` (MEMORY PURGE and the server cron), and
``set_thresholds()`` pins the mmap and trim thresholds (``malloc_mmap_threshold_kb``, applied
when the server opens its store; the engine pins 128 KiB by default).

RocksDB's memtables, compaction buffers and table readers and every Python object larger
than 512 bytes come from glibc's malloc, so its heaps are most of the process's RSS beside
the block cache. Off glibc (musl, macOS) every function is a no-op answering zeros / False.
"""

from __future__ import annotations

import ctypes
import ctypes.util


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in (
        "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks",
        "fordblks", "keepcost")]


def _libc():
    try:
        libc = ctypes.CDLL(None)
        libc.mallinfo2.restype = _MallInfo2
        libc.malloc_trim.argtypes = [ctypes.c_size_t]
        libc.malloc_trim.restype = ctypes.c_int
        return libc
    except (OSError, AttributeError):  # not glibc, or glibc < 2.33 (no mallinfo2)
        return None


_LIBC = _libc()

# MEMORY STATS field -> mallinfo2 member
FIELDS = (
    ("malloc-heap", "arena"),  # bytes of the brk/arena heaps (all arenas), in use or free
    ("malloc-used", "uordblks"),  # of which allocated
    ("malloc-free", "fordblks"),  # of which free but not returned to the system
    ("malloc-mmapped", "hblkhd"),  # big blocks mmapped on their own (returned on free)
)


def info() -> dict[str, int]:
    """glibc's heap figures in bytes, under the MEMORY STATS names of ``FIELDS`` (zeros off
    glibc). Note ``mallinfo2`` walks every arena's free lists: ~0.1 ms, not for a hot path."""
    if _LIBC is None:
        return {name: 0 for name, _ in FIELDS}
    mi = _LIBC.mallinfo2()
    return {name: int(getattr(mi, member)) for name, member in FIELDS}


def trim() -> bool:
    """Give the free memory at the top of glibc's heaps, and free whole pages inside them,
    back to the system (``malloc_trim(0)``). True when some memory was released."""
    if _LIBC is None:
        return False
    return bool(_LIBC.malloc_trim(0))


TRIM_THRESHOLD = 128 * 1024  # glibc's static default, pinned with the mmap threshold
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_applied = {"mmap-threshold": 0, "trim-threshold": 0}  # 0 = glibc's dynamic default


def set_thresholds(mmap_kb: int) -> bool:
    """Pin glibc's mmap threshold at ``mmap_kb`` KiB and its trim threshold at 128 KiB (``0``:
    leave glibc's defaults, which adjust themselves). True when glibc took both.

    Why: by default glibc raises the mmap threshold to the size of the largest freed mmap'd
    block (up to 32 MB), so after a few big frees RocksDB's memtable arena blocks and its
    compaction buffers come from the heap, where they fragment it and stay resident: ~40 MB
    more peak RSS on a 5M-element load (docs/scale.md). Setting either threshold with
    ``mallopt`` turns that adjustment off for both. Blocks at or above the threshold are
    mmapped on their own and returned to the system the moment they are freed. Process-wide
    and idempotent; a no-op (False) off glibc."""
    if _LIBC is None or mmap_kb <= 0:
        return False
    ok = bool(_LIBC.mallopt(_M_MMAP_THRESHOLD, mmap_kb * 1024))
    ok = bool(_LIBC.mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and ok
    if ok:
        _applied.update({"mmap-threshold": mmap_kb * 1024, "trim-threshold": TRIM_THRESHOLD})
    return ok


def thresholds() -> dict[str, int]:
    """The thresholds ``set_thresholds`` pinned, in bytes (0 = glibc's dynamic default)."""
    return dict(_applied)


def fix_mmap_threshold(size: int = 128 * 1024) -> None:
    """``set_thresholds`` in bytes (kept for callers of the first version)."""
    set_thresholds(size // 1024)
