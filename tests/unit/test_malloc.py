"""ledis.malloc (glibc's allocator through ctypes) and the bounded score caches that fed the
soak's slow RSS rise (docs/soak.md)."""

from __future__ import annotations

import ctypes
import platform
import random

import pytest

from ledis import malloc
from ledis.commands import zsets as zset_commands
from ledis.storage.types import zset

glibc = pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc's allocator")


def _rss() -> int:
    with open("/proc/self/statm", "rb") as fh:
        return int(fh.read().split()[1]) * 4096


@glibc
def test_info_counts_the_heap():
    before = malloc.info()
    assert set(before) == {name for name, _ in malloc.FIELDS}
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    blocks = [libc.malloc(64 * 1024) for _ in range(64)]  # under the mmap threshold: heap
    after = malloc.info()
    assert after["malloc-used"] >= before["malloc-used"] + 60 * 64 * 1024
    assert after["malloc-heap"] >= after["malloc-used"]
    for block in blocks:
        libc.free(block)


@glibc
def test_trim_gives_free_heap_pages_back():
    """Freed chunks kept behind a live one stay resident until ``malloc_trim``: the case of
    a compaction's buffers (docs/soak.md)."""
    malloc.fix_mmap_threshold()  # as a server runs: 64 KB chunks come from the heap
    libc = ctypes.CDLL(None)
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
    size, count = 64 * 1024, 640  # 40 MB
    blocks = [libc.malloc(size) for _ in range(count)]
    for block in blocks:
        libc.memset(block, 1, size)  # make the pages resident
    keep = libc.malloc(size)  # a live chunk above them: free() alone cannot shrink the heap
    for block in blocks[:-1]:
        libc.free(block)
    freed = _rss()
    assert malloc.trim()
    trimmed = _rss()
    assert freed - trimmed > 20 * 1024 * 1024, (freed, trimmed)
    libc.free(blocks[-1])
    libc.free(keep)


def test_score_caches_stay_bounded_and_right():
    rnd = random.Random(5)
    scores = [rnd.uniform(-1e6, 1e6) for _ in range(3 * zset._DECODED_MAX)]
    for score in scores:
        raw = zset.encode_score(score)
        assert zset.decode_score(raw) == score
        assert float(zset_commands.score_text(raw)) == score
        assert len(zset._DECODED) <= zset._DECODED_MAX
        assert len(zset_commands._TEXT) <= zset_commands._CACHE_MAX
    # still a cache: a repeated score is served from it
    raw = zset.encode_score(scores[-1])
    assert zset._DECODED.get(raw) == scores[-1]
