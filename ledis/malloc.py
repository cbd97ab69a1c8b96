"""glibc's allocator, seen and asked from Python (ctypes): ``info()`` reads ``mallinfo2`` for
MEMORY STATS, ``trim()`` is ``malloc_trim(0)`` (MEMORY PURGE and the server cron), and
``fix_mmap_threshold()`` pins the mmap threshold (the engine calls it when it opens a store).

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


def fix_mmap_threshold(size: int = 128 * 1024) -> None:
    """Pin glibc's mmap threshold at ``size``. By default it rises to the size of the largest
    freed mmap'd block, so RocksDB's 4 MB memtable arena blocks move onto the heap, where they
    fragment it and are never returned: ~40 MB more peak RSS measured on a 5M-element load
    (docs/scale.md). Process-wide and idempotent; a no-op off glibc."""
    if _LIBC is None:
        return
    _LIBC.mallopt(-3, size)  # M_MMAP_THRESHOLD
