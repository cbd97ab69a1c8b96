"""ledis.malloc (glibc's allocator through ctypes) and the bounded score caches that fed the
soak's slow RSS rise (docs/soak.md)."""

from __future__ import annotations

import ctypes
import platform
import random
import subprocess
import sys
from pathlib import Path

import pytest

from ledis import malloc
from ledis.commands import zsets as zset_commands
from ledis.storage.types import zset, zset_score

ROOT = Path(__file__).resolve().parents[2]
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
def test_set_thresholds_pins_both_and_says_so():
    """``mallopt`` takes both thresholds (it answers 1) and ``thresholds()`` reports them;
    0 leaves glibc's defaults alone. The server pins ``malloc_mmap_threshold_kb`` at startup."""
    assert malloc.set_thresholds(0) is False
    assert malloc.set_thresholds(64) is True
    assert malloc.thresholds() == {"mmap-threshold": 64 * 1024, "trim-threshold": 128 * 1024}
    assert malloc.set_thresholds(128) is True  # back to the server's default


_SECOND_BIG_BLOCK = """
import ctypes, sys
from ledis import malloc
malloc.set_thresholds(int(sys.argv[1]))
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
libc.free.argtypes = [ctypes.c_void_p]
size = 8 * 1024 * 1024
libc.free(libc.malloc(size))  # mmapped (above 128 KiB); its free is what raises glibc's threshold
before = malloc.info()["malloc-mmapped"]
block = libc.malloc(size)
print(malloc.info()["malloc-mmapped"] - before >= size)
libc.free(block)
"""


@glibc
@pytest.mark.parametrize(("kb", "mmapped"), [(128, "True"), (0, "False")])
def test_pinned_threshold_keeps_big_blocks_out_of_the_heap(kb, mmapped):
    """The point of pinning: glibc's default raises its threshold to the size of a freed
    mmapped block, so a second 8 MiB block comes from the heap (and is kept there when freed);
    pinned, it is mmapped again and returned on free. A fresh process, so no earlier test's
    free heap can serve the block."""
    out = subprocess.run([sys.executable, "-c", _SECOND_BIG_BLOCK, str(kb)], check=True,
                         capture_output=True, text=True, cwd=ROOT).stdout.strip()
    assert out == mmapped


@glibc
def test_trim_gives_free_heap_pages_back():
    """Freed chunks kept behind a live one stay resident until ``malloc_trim``: the case of
    a compaction's buffers (docs/soak.md)."""
    malloc.set_thresholds(128)  # as a server runs: 64 KB chunks come from the heap
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
    scores = [rnd.uniform(-1e6, 1e6) for _ in range(3 * zset_score._DECODED_MAX)]
    for score in scores:
        raw = zset.encode_score(score)
        assert zset.decode_score(raw) == score
        assert float(zset_commands.score_text(raw)) == score
        assert len(zset_score._DECODED) <= zset_score._DECODED_MAX
        assert len(zset_commands._TEXT) <= zset_commands._CACHE_MAX
    # still a cache: a repeated score is served from it
    raw = zset.encode_score(scores[-1])
    assert zset_score._DECODED.get(raw) == scores[-1]


def test_mmap_threshold_option_parses_and_is_bounded(tmp_path):
    """``malloc_mmap_threshold_kb``: a typed storage option, 128 by default, 0 allowed (glibc's
    own dynamic threshold), above glibc's 32 MiB ceiling refused."""
    from ledis.config import Config, ConfigError

    assert Config().malloc_mmap_threshold_kb == 128
    path = tmp_path / "ledis.yaml"
    for value in (0, 1024):
        path.write_text(f"storage:\n  malloc_mmap_threshold_kb: {value}\n")
        config = Config()
        config.load_yaml(str(path))
        assert config.malloc_mmap_threshold_kb == value
    for bad in ("-1", "40000", "lots"):
        path.write_text(f"storage:\n  malloc_mmap_threshold_kb: {bad}\n")
        with pytest.raises(ConfigError):
            Config().load_yaml(str(path))
