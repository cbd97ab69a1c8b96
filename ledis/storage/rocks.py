"""Opening the RocksDB store: its options, and what can go wrong opening it (a store held by
another process, a damaged or unreadable one, a checksum mismatch later). ``Engine``
(``ledis/storage/engine.py``) opens the store through here and owns it afterwards; ``ledis
repair`` (``ledis/tools/check.py``) uses the same options."""

from __future__ import annotations

import os
from typing import NamedTuple

import rocksdict

from ledis.storage.layout import CF_NAMES

COMPRESSION = {
    "none": rocksdict.DBCompressionType.none,
    "lz4": rocksdict.DBCompressionType.lz4,
    "zstd": rocksdict.DBCompressionType.zstd,
    "snappy": rocksdict.DBCompressionType.snappy,
}


class StoreLockedError(RuntimeError):
    """The data directory is held by another process."""


class StoreOpenError(RuntimeError):
    """RocksDB refused to open the store (missing or damaged files, an I/O error): its text,
    on one line. ``ledis check`` / ``ledis repair`` are the way out."""


# Files RocksDB keeps in a store: without CURRENT but with these, the directory is a damaged
# store, not a new one (RocksDB would start an empty store beside the old files and later
# delete them as obsolete).
_ROCKSDB_FILES = (".sst", ".log")
# Memory bounds of RocksDB's background work (docs/memory.md, measured in docs/soak.md)
COMPACTION_READAHEAD = 256 * 1024  # bytes read ahead per compaction input file


def is_corruption(exc: BaseException) -> bool:
    """Whether a RocksDB error says the stored bytes are damaged (a checksum mismatch, a bad
    block) rather than something transient."""
    return "Corruption" in str(exc)


def open_problem(path: str) -> str | None:
    """Why ``path`` is a store RocksDB must not open as is, or None: CURRENT is missing while
    table or log files are there."""
    try:
        names = os.listdir(path)
    except OSError:
        return None
    if "CURRENT" in names:
        return None
    if any(n.endswith(_ROCKSDB_FILES) or n.startswith("MANIFEST-") for n in names):
        return "CURRENT is missing but the directory holds RocksDB files (damaged store)"
    return None


# The families ``Engine.get`` reads by key, often for a key that is not there (SET, INCR,
# HSET, SADD and ZADD of a new key or member look first): their memtables get a bloom filter
# of whole keys, so a miss skips the skip-list search (~2.4k instructions and its cache
# misses a read; RocksDB's own OptimizeForPointLookup preset, ratio 0.02: 2% of
# write_buffer_mb, allocated with each memtable). The others are walked in order (zscore,
# expire, log) or rarely read (sys). docs/PERFORMANCE.md, session 16.
POINT_READ_FAMILIES = ("meta", "data")
MEMTABLE_BLOOM_RATIO = 0.02


class StoreOptions(NamedTuple):
    """The store's options: ``db`` for the database (and RocksDB's default family),
    ``families`` for each column family by name."""

    db: rocksdict.Options
    families: dict[str, rocksdict.Options]


def options(block_cache_mb: int, compression: str, write_buffer_mb: int,
        bottommost_compression: str = "") -> StoreOptions:
    """The store's options, as ``Engine`` opens it: one block cache for every family."""
    cache = rocksdict.Cache(block_cache_mb * 1024 * 1024)
    plain = _options(cache, compression, write_buffer_mb, bottommost_compression, False)
    point = _options(cache, compression, write_buffer_mb, bottommost_compression, True)
    return StoreOptions(plain, {name: point if name in POINT_READ_FAMILIES else plain
                                for name in CF_NAMES})


def _options(cache: rocksdict.Cache, compression: str, write_buffer_mb: int,
             bottommost_compression: str, point_reads: bool) -> rocksdict.Options:
    opts = rocksdict.Options(raw_mode=True)
    opts.create_if_missing(True)
    opts.create_missing_column_families(True)
    # Verify what RocksDB reads back of its own files (MANIFEST, WAL, table footers) and
    # stop on a damaged one instead of carrying on with part of the store.
    opts.set_paranoid_checks(True)
    table = rocksdict.BlockBasedOptions()
    table.set_block_cache(cache)
    table.set_bloom_filter(10, False)
    table.set_cache_index_and_filter_blocks(True)
    # Partitioned index + filters (4 KB partitions, small top level pinned): a whole-file
    # filter of a big SST (~1-2 MB) is larger than one block-cache shard (64 MB / 64), so
    # it was never cached and every point read re-read and checksummed it: ~230 us per
    # get, which made a 5M-element HSET load crawl (benchmarks/scale.py, docs/scale.md).
    table.set_index_type(rocksdict.BlockBasedIndexType.two_level_index_search())
    table.set_partition_filters(True)
    table.set_pin_top_level_index_and_filter(True)
    table.set_pin_l0_filter_and_index_blocks_in_cache(True)
    opts.set_block_based_table_factory(table)
    opts.set_compression_type(COMPRESSION[compression]())
    opts.set_write_buffer_size(write_buffer_mb * 1024 * 1024)
    opts.set_max_write_buffer_number(3)
    if point_reads:
        opts.set_memtable_prefix_bloom_ratio(MEMTABLE_BLOOM_RATIO)
        opts.set_memtable_whole_key_filtering(True)
    # One memtable budget for all column families (data, zscore and log fill together):
    # without it 3 x write_buffer_mb per family, ~90 MB measured loading a big zset.
    opts.set_db_write_buffer_size(2 * write_buffer_mb * 1024 * 1024)
    opts.increase_parallelism(2)
    # RocksDB 9's default 2 MiB readahead buffer per compaction input file comes out of
    # glibc's heap and stays resident until the next trim: with 256 KiB the soak's
    # compaction peaks fell from 25-42 MB of freed heap to 17-25 MB (docs/soak.md).
    opts.set_compaction_readahead_size(COMPACTION_READAHEAD)
    if bottommost_compression:  # the biggest level: e.g. zstd there, lz4 above
        opts.set_bottommost_compression_type(COMPRESSION[bottommost_compression]())
    return opts


def open_db(path: str, opts: StoreOptions) -> rocksdict.Rdict:
    """Open the store at ``path`` with every column family, checksums verified on every
    read. ``StoreOpenError`` for a damaged or unreadable store, ``StoreLockedError`` when
    another process holds it."""
    problem = open_problem(path)
    if problem:
        raise StoreOpenError(problem)
    try:
        db = rocksdict.Rdict(path, options=opts.db, column_families=opts.families)
    except Exception as exc:  # noqa: BLE001 - rocksdict raises a bare Exception
        if "lock" in str(exc).lower():
            raise StoreLockedError(
                f"data directory {path} is in use by another process ({exc})"
            ) from None
        raise StoreOpenError(" ".join(str(exc).split())) from None
    # Block checksums on every read (RocksDB's default, made explicit: a damaged block must
    # be an error, never a wrong value).
    read_opts = rocksdict.ReadOptions()
    read_opts.set_verify_checksums(True)
    db.set_read_options(read_opts)
    return db
