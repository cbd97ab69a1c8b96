"""MEMORY: USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE, HELP.

ledis keeps its data in RocksDB, so "memory" has two honest readings and each subcommand
says which it uses:

* ``MEMORY USAGE key [SAMPLES n]`` is the logical size of the key's records in the store
  (``ledis.storage.usage``: metadata, expiry index and elements, sampled like Redis with a
  default of 5 samples, ``SAMPLES 0`` meaning all). It is what the key costs, the figure tools
  such as ``redis-cli --memkeys`` rank keys by.
* ``MEMORY STATS`` describes the process under Redis 7.0's field names: allocation figures are
  the resident set size (Python's allocator and RocksDB's block cache and memtables are all
  in it), ``startup.allocated`` the RSS when commands were loaded, the Lua VMs are
  ``lua.caches`` / ``functions.caches``, and ``keys.count`` the exact key count. RocksDB's
  own figures follow under ledis-only names (``rocksdb.*``). ledis has no in-memory hash
  tables, so the per-database ``overhead.hashtable.*`` fields are 0.
* ``MEMORY DOCTOR`` applies Redis's checks that have a meaning here (empty instance, a past
  peak well above the current RSS) and answers with Redis's sentences.
* ``MALLOC-STATS`` answers as a Redis built without jemalloc does; ``PURGE`` gives glibc's
  free memory back to the system (``malloc_trim``, ``ledis.malloc``) and answers OK.
"""

from __future__ import annotations

import os
import resource
import sys

from ledis import errors, malloc
from ledis.commands.args import ArgCursor
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Double, Map, Simple, Verbatim
from ledis.storage import usage
from ledis.storage.layout import CF_NAMES

DEFAULT_SAMPLES = 5

_HELP = [
    b"MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"DOCTOR",
    b"    Return memory problems reports.",
    b"MALLOC-STATS",
    b"    Return internal statistics report from the memory allocator.",
    b"PURGE",
    b"    Attempt to purge dirty pages for reclamation by the allocator.",
    b"STATS",
    b"    Return information about the memory usage of the server.",
    b"USAGE <key> [SAMPLES <count>]",
    b"    Return memory in bytes used by <key> and its value. Nested values are",
    b"    sampled up to <count> times (default: 5, 0 means sample all).",
    b"HELP",
    b"    Prints this help.",
]

# Redis's MEMORY DOCTOR texts (object.c, getMemoryDoctorReport).
DOCTOR_EMPTY = (
    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't "
    "be used in these conditions. Please, leave for your mission on Earth and fill it with "
    "some data. The new Sam and I will be back to our programming as soon as I finished "
    "rebooting.\n")
DOCTOR_FINE = (
    "Hi Sam, I can't find any memory issue in your instance. I can only account for what "
    "occurs on this base.\n")
DOCTOR_PEAK = (
    "Sam, I detected a few issues in this Redis instance memory implants:\n\n"
    " * Peak memory: In the past this instance used more than 150% the memory that is "
    "currently using. The allocator is normally not able to release memory after a peak, so "
    "you can expect to see a big fragmentation ratio, however this is actually harmless and is "
    "only due to the memory peak, and if the Redis instance Resident Set Size (RSS) is "
    "currently bigger than expected, the memory will be used as soon as you fill the Redis "
    "instance with more data. If the memory peak was only occasional and you want to try to "
    "reclaim memory, please try the MEMORY PURGE command, otherwise the only other option is "
    "to shutdown and restart the instance.\n\n"
    "I'm here to keep you safe, Sam. I want to help you.\n")
MALLOC_STATS_UNSUPPORTED = b"Stats not supported for the current allocator"


def rss() -> int:
    """Resident set size of this process, in bytes."""
    try:
        with open("/proc/self/statm", "rb") as fh:
            return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return peak_rss()


def peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


_STARTUP_RSS = rss()  # this module is imported when the server loads its commands


# --- USAGE ------------------------------------------------------------------------------------


@command("memory|usage", arity=-3, flags="readonly", keys=(2, 2, 1), group="server",
         summary="Estimate the memory usage of a key", since="4.0.0",
         complexity="O(N) where N is the number of samples.", acl="@read @slow")
def cmd_memory_usage(ctx, argv):
    samples = DEFAULT_SAMPLES
    args = ArgCursor(argv, 3)
    while args:
        if args.remaining() > 1 and args.eat(b"SAMPLES"):
            samples = args.take_int()
            if samples < 0:
                raise LedisError(errors.SYNTAX)
        else:
            raise LedisError(errors.SYNTAX)
    raw = ctx.db.lookup(argv[2])  # not counted: Redis finds it in the dict directly
    if raw is None:
        return None
    return usage.key_usage(ctx.db, argv[2], raw, samples)


# --- STATS ------------------------------------------------------------------------------------


# RocksDB properties summed over the column families (a family has its own memtables and
# table readers); the block cache is one cache shared by every family, so it is read once.
_PER_FAMILY = (
    ("rocksdb.memtables", "rocksdb.cur-size-all-mem-tables"),
    ("rocksdb.memtables-all", "rocksdb.size-all-mem-tables"),
    ("rocksdb.table-readers", "rocksdb.estimate-table-readers-mem"),
    ("rocksdb.sst-files-size", "rocksdb.total-sst-files-size"),
)
_SHARED = (
    ("rocksdb.block-cache-usage", "rocksdb.block-cache-usage"),
    ("rocksdb.block-cache-pinned-usage", "rocksdb.block-cache-pinned-usage"),
)


def _engine_figures(core) -> dict[str, int]:
    """RocksDB's memory and disk figures (0 on the memory backend): ``memtables`` are the
    mutable and immutable memtables not yet flushed, ``memtables-all`` also those kept alive
    by an iterator or snapshot after their flush; ``table-readers`` is what open SST files hold
    outside the block cache."""
    engine = core.engine
    figures = {name: 0 for name, _ in _SHARED + _PER_FAMILY}
    try:
        for name, prop in _SHARED:
            figures[name] = engine.property_int(0, prop)
        for name, prop in _PER_FAMILY:
            figures[name] = sum(engine.property_int(cf, prop) for cf in range(len(CF_NAMES)))
    except Exception:  # noqa: BLE001, S110 - a stats reply must not fail on a missing property
        pass
    figures["ledis.read-cache-entries"] = engine.cached_entries()
    return figures


def _process_figures() -> dict[str, int]:
    """Python's and glibc's allocators: ``ledis.python-blocks`` the objects Python has
    allocated, ``ledis.malloc-*`` glibc's heap (``mallinfo2``: bytes in use, free but kept,
    and mmapped; ``malloc-mmap-threshold`` / ``malloc-trim-threshold`` the thresholds pinned at
    startup, 0 = glibc's dynamic default), 0 off glibc."""
    figures = {"ledis.python-blocks": sys.getallocatedblocks()}
    figures.update(("ledis." + name, value) for name, value in malloc.info().items())
    figures.update(("ledis.malloc-" + name, value) for name, value in malloc.thresholds().items())
    return figures


def _vm_memory(core) -> tuple[int, int]:
    lua = functions = 0
    try:
        lua = int(core.scripting.memory_used())
        functions = int(core.functions.memory_used())
    except Exception:  # noqa: BLE001, S110 - a stats reply must not fail on a subsystem error
        pass
    return lua, functions


def key_count(core) -> int:
    return sum(db.keys for db in core.store.dbs)


@command("memory|stats", arity=2, flags="", keys=(0, 0, 0), group="server",
         summary="Show memory usage details", since="4.0.0", complexity="O(1)", acl="@slow")
def cmd_memory_stats(ctx, argv):
    core = ctx.core
    total = rss()
    peak = max(peak_rss(), total)
    startup = min(_STARTUP_RSS, total)
    lua, functions = _vm_memory(core)
    overhead = startup + lua + functions
    dataset = max(total - overhead, 0)
    keys = key_count(core)
    net = max(total - startup, 0)
    stats = Map()
    stats[b"peak.allocated"] = peak
    stats[b"total.allocated"] = total
    stats[b"startup.allocated"] = startup
    stats[b"replication.backlog"] = 0
    stats[b"clients.slaves"] = 0
    stats[b"clients.normal"] = 0
    stats[b"cluster.links"] = 0
    stats[b"aof.buffer"] = 0
    stats[b"lua.caches"] = lua
    stats[b"functions.caches"] = functions
    for index, db in enumerate(core.store.dbs):
        if db.keys:
            stats[b"db.%d" % index] = Map({b"overhead.hashtable.main": 0,
                                          b"overhead.hashtable.expires": 0,
                                          b"overhead.hashtable.slot-to-keys": 0})
    stats[b"overhead.total"] = overhead
    stats[b"keys.count"] = keys
    stats[b"keys.bytes-per-key"] = net // keys if keys else 0
    stats[b"dataset.bytes"] = dataset
    stats[b"dataset.percentage"] = Double(dataset * 100.0 / net if net else 0.0)
    stats[b"peak.percentage"] = Double(total * 100.0 / peak if peak else 0.0)
    stats[b"allocator.allocated"] = total
    stats[b"allocator.active"] = total
    stats[b"allocator.resident"] = total
    stats[b"allocator-fragmentation.ratio"] = Double(1.0)
    stats[b"allocator-fragmentation.bytes"] = 0
    stats[b"allocator-rss.ratio"] = Double(1.0)
    stats[b"allocator-rss.bytes"] = 0
    stats[b"rss-overhead.ratio"] = Double(1.0)
    stats[b"rss-overhead.bytes"] = 0
    stats[b"fragmentation"] = Double(1.0)
    stats[b"fragmentation.bytes"] = 0
    for name, value in (_engine_figures(core) | _process_figures()).items():
        stats[name.encode()] = value
    return stats


# --- DOCTOR / MALLOC-STATS / PURGE / HELP -----------------------------------------------------


@command("memory|doctor", arity=2, flags="", keys=(0, 0, 0), group="server",
         summary="Outputs memory problems report", since="4.0.0", complexity="O(1)",
         acl="@slow")
def cmd_memory_doctor(ctx, argv):
    if key_count(ctx.core) == 0:
        return Verbatim(DOCTOR_EMPTY.encode())
    if peak_rss() > rss() * 3 // 2:
        return Verbatim(DOCTOR_PEAK.encode())
    return Verbatim(DOCTOR_FINE.encode())


@command("memory|malloc-stats", arity=2, flags="", keys=(0, 0, 0), group="server",
         summary="Show allocator internal stats", since="4.0.0",
         complexity="Depends on how much memory is allocated, could be slow", acl="@slow")
def cmd_memory_malloc_stats(ctx, argv):
    return MALLOC_STATS_UNSUPPORTED


@command("memory|purge", arity=2, flags="", keys=(0, 0, 0), group="server",
         summary="Ask the allocator to release memory", since="4.0.0",
         complexity="Depends on how much memory is allocated, could be slow", acl="@slow")
def cmd_memory_purge(ctx, argv):
    malloc.trim()  # glibc's counterpart of Redis's jemalloc purge
    return OK


@command("memory|help", arity=2, flags="loading stale", keys=(0, 0, 0), group="server",
         summary="Show helpful text about the different subcommands", since="4.0.0",
         complexity="O(1)", acl="@slow")
def cmd_memory_help(ctx, argv):
    return [Simple(line) for line in _HELP]
