"""``ledis check DIR`` / ``ledis repair DIR``: verify a data directory offline, fix what is safe.

What is checked (layouts in ``ledis.storage.layout`` and the type modules):

* **metadata records**: known type code, long enough for their type;
* **collection sizes**: the ``size`` in each collection's metadata against the ``data``
  sub-keys of its current version (one pass over ``data``, grouped by version prefix); lists
  also need ``size == tail - head`` and every element inside ``[head, tail)`` with no holes;
  sorted sets need the ``zscore`` index to hold exactly one entry per member, with the score
  the member has in ``data``;
* **the disk format** (``ledis.storage.migrate``): a store in an older format is reported
  alone (``repair`` migrates it, then checks), one in a newer format too (not repaired);
* **orphans**: ``data`` / ``zscore`` sub-keys whose id ``(db, version)`` is not the current
  version of a stored key (a crash cannot leave them, since a version is dropped in the same
  batch as its metadata; a bug or a bad restore can). Sub-keys do not carry the key's name,
  so an orphan is reported by its id;
* **shared ids**: two keys of a db whose metadata name the same version would share their
  sub-keys (the version counter and its persisted floor prevent it; reported, not repaired);
* **the moved-collection registry** (``sys`` ``moved:``, ``layout``'s "Home db"): an entry
  for each collection whose metadata is outside its home db, naming that db, and no other
  (repaired by writing or deleting entries);
* **the expire index** against the metadata, both ways;
* **key counters** (``sys`` ``count:<db>``, what DBSIZE and INFO keyspace show);
* **the write log**: every record's CRC;
* **the files** (first, before anything logical): RocksDB must open the store (CURRENT,
  MANIFEST, table footers, with ``paranoid_checks``) and read every block of every column
  family back with its checksum. A damaged file makes the logical checks meaningless, so it
  is the only problem reported then.

For damaged files, ``repair`` first runs RocksDB's own repair (``RepairDB``: it rebuilds the
MANIFEST from the table and log files it can read; what it cannot read is moved to ``lost/``
in the directory), then checks and fixes the logical layer as above, since whole tables may
have gone (the key counters and indexes are recomputed).

``repair`` fixes, in one batch: wrong sizes (recount; a list with holes is re-packed in
order; a sorted set's score index is rebuilt from ``data``, which is authoritative), emptied
collections (removed), orphan sub-keys (range-deleted), expire-index entries (stale ones
dropped, missing ones added), key counters (rewritten). It does not touch a metadata record
of an unknown type or a corrupt log record (no safe fix: dump what can be read, and re-sync
replicas from scratch); those are reported and make the exit status 1.
"""

from __future__ import annotations

import os
import struct
import sys
import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from functools import partial

from ledis import errors
from ledis.storage import layout, rocks
from ledis.storage.layout import (
    DATA,
    EXPIRE,
    HASH,
    LIST,
    LOG,
    META,
    SET,
    STREAM,
    STRING,
    SYS,
    U64,
    ZSCORE,
    ZSET,
)
from ledis.storage.migrate import ensure_format, store_format
from ledis.storage.rocks import StoreOpenError
from ledis.storage.types import zset, zset_rank
from ledis.tools.dump import open_engine

_COUNTS = struct.Struct(">qq")
_LIST = struct.Struct(">BQQQQQ")
MIN_LEN = {STRING: 9, HASH: 25, SET: 25, ZSET: 25, LIST: _LIST.size, STREAM: 65}


class Problem:
    def __init__(self, kind: str, text: str, fix: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.text = text
        self.fix = fix

    def __str__(self) -> str:
        return f"[{self.kind}] {self.text}"


def _show(key: bytes) -> str:
    text = repr(key)[2:-1]
    return text if len(text) <= 60 else text[:57] + "..."


_N = layout.SUB_PREFIX_LEN


def _format_problem(engine) -> Problem | None:
    """The store is not in the format this ledis writes: the only problem reported then (the
    layout checks below would misread it). A format-1 store is migrated by ``repair``."""
    found = store_format(engine)
    if found == layout.FORMAT_VERSION:
        return None
    if found > layout.FORMAT_VERSION:
        return Problem("format", errors.STORE_FORMAT_NEWER.format(found, layout.FORMAT_VERSION)
                       + "; not repaired")
    return Problem("format", f"the store is in disk format {found}, this ledis writes "
                   f"{layout.FORMAT_VERSION}; 'ledis repair' (or opening it with 'ledis "
                   "server') migrates it", partial(_migrate, engine))


def _migrate(engine) -> None:
    versions = layout.Versions()
    saved = engine.get(SYS, layout.VERSION_FLOOR_KEY)
    versions.set_floor(U64.unpack(saved)[0] if saved else 0)
    ensure_format(engine, versions)


def check(engine) -> list[Problem]:
    format_problem = _format_problem(engine)
    if format_problem is not None:
        return [format_problem]
    problems: list[Problem] = []
    put, delete = engine.put, engine.delete

    # --- one pass over data and zscore: counts per version prefix -------------------------
    data_count: dict[bytes, int] = defaultdict(int)
    list_seqs: dict[bytes, list[int]] = {}  # min, max of sequence numbers
    stream_entries: dict[bytes, int] = defaultdict(int)  # "e" sub-keys (stream.py)
    for sub, _ in engine.iterate(DATA, b""):
        prefix, end = sub[:_N], _N
        data_count[prefix] += 1
        if len(sub) == end + 17 and sub[end] == 0x65:
            stream_entries[prefix] += 1
        if len(sub) == end + 8:
            seq = U64.unpack_from(sub, end)[0]
            bounds = list_seqs.get(prefix)
            if bounds is None:
                list_seqs[prefix] = [seq, seq]
            elif seq > bounds[1]:
                bounds[1] = seq
    zscore_count: dict[bytes, int] = defaultdict(int)
    zscore_bad: dict[bytes, int] = defaultdict(int)
    for sub, _ in engine.iterate(ZSCORE, b""):
        prefix, end = sub[:_N], _N
        if sub[end:end + 2] == b"\xff\xff":
            continue  # a rank index node (checked below with its zset)
        zscore_count[prefix] += 1
        if engine.get(DATA, prefix + sub[end + 8:]) != sub[end:end + 8]:
            zscore_bad[prefix] += 1

    # --- metadata --------------------------------------------------------------------------
    counts: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    live_prefixes: dict[bytes, bytes] = {}  # id prefix -> the key whose metadata names it
    expected_moved: dict[bytes, bytes] = {}  # sys "moved:" entries the metadata implies
    expected_expire: set[bytes] = set()
    for mkey, raw in engine.iterate(META, b""):
        db, key = mkey[0], mkey[1:]
        name = f"db{db} key '{_show(key)}'"
        type_code = raw[0] if raw else 0
        if type_code not in MIN_LEN or len(raw) < MIN_LEN[type_code]:
            problems.append(Problem("meta", f"{name}: unreadable metadata (type {type_code}, "
                                    f"{len(raw)} bytes); not repaired"))
            continue
        expire = U64.unpack_from(raw, 1)[0]
        counts[db][0] += 1
        if expire:
            counts[db][1] += 1
            expected_expire.add(layout.expire_key(db, expire, key))
        if type_code == STRING:
            continue
        version = U64.unpack_from(raw, 9)[0]
        size = U64.unpack_from(raw, 17)[0]
        prefix = layout.sub_prefix(db, version)
        if prefix in live_prefixes:  # two keys would read and write the same sub-keys
            problems.append(Problem(
                "shared", f"{name}: its id (version {version}) is also the id of key "
                f"'{_show(live_prefixes[prefix])}'; not repaired (dump both, delete, reload)"))
            continue
        live_prefixes[prefix] = key
        if prefix[0] != db:  # moved out of its home db: the registry must say where to
            expected_moved[layout.moved_key(version)] = layout.DB_BYTES[db]
        actual = data_count.get(prefix, 0)
        if type_code == LIST:
            _t, _e, _v, _s, head, tail = _LIST.unpack_from(raw)
            bounds = list_seqs.get(prefix)
            holes = bool(actual) and (bounds is None or bounds[0] != head or
                                      bounds[1] != head + actual - 1)
            if size != actual or tail - head != actual or holes:
                problems.append(Problem(
                    "size", f"{name}: list metadata says {size} elements (head..tail "
                    f"{tail - head}), {actual} stored{' with holes' if holes else ''}",
                    _fix_list(engine, db, key, raw, prefix)))
        elif type_code == ZSET:
            zs = zscore_count.get(prefix, 0)
            bad = zscore_bad.get(prefix, 0)
            if size != actual or zs != actual or bad:
                problems.append(Problem(
                    "size", f"{name}: sorted set metadata says {size} members, {actual} in "
                    f"data, {zs} in the score index ({bad} mismatched)",
                    _fix_zset(engine, db, key, raw, prefix, actual)))
            elif zset.indexed(raw):
                wrong = zset_rank.check_index(engine, prefix)
                if wrong:
                    problems.append(Problem("index", f"{name}: {wrong}",
                                            partial(zset_rank.build_index, engine, prefix)))
        elif type_code == STREAM:
            # Groups, consumers and PELs share the version; only "e" sub-keys are entries,
            # and an empty stream is a valid stream.
            entries = stream_entries.get(prefix, 0)
            if size != entries:
                problems.append(Problem(
                    "size", f"{name}: stream metadata says {size} entries, {entries} stored",
                    partial(put, META, layout.meta_key(db, key),
                            raw[:17] + U64.pack(entries) + raw[25:])))
        elif size != actual:
            kind = "hash" if type_code == HASH else "set"
            problems.append(Problem(
                "size", f"{name}: {kind} metadata says {size}, {actual} stored",
                _fix_size(engine, db, key, raw, actual)))

    # --- orphans ---------------------------------------------------------------------------
    for family, table in ((DATA, data_count), (ZSCORE, zscore_count)):
        for prefix, n in table.items():
            if prefix not in live_prefixes:
                problems.append(Problem(
                    "orphan", f"db{prefix[0]}: {n} {layout.CF_NAMES[family]} "
                    f"sub-keys of id (version) {U64.unpack_from(prefix, 1)[0]} "
                    "that no metadata points to",
                    partial(engine.delete_range, family, prefix, layout.prefix_end(prefix))))

    problems += _check_moved(engine, expected_moved)

    # --- expire index ------------------------------------------------------------------------
    for ekey, _ in engine.iterate(EXPIRE, b""):
        if ekey not in expected_expire:
            problems.append(Problem(
                "expire", f"db{ekey[0]} key '{_show(ekey[9:])}': expire index entry "
                f"{U64.unpack_from(ekey, 1)[0]} does not match its metadata",
                partial(delete, EXPIRE, ekey)))
        else:
            expected_expire.discard(ekey)
    for ekey in sorted(expected_expire):
        problems.append(Problem(
            "expire", f"db{ekey[0]} key '{_show(ekey[9:])}': expiry "
            f"{U64.unpack_from(ekey, 1)[0]} missing from the expire index",
            partial(put, EXPIRE, ekey, b"")))

    # --- key counters ------------------------------------------------------------------------
    stored: dict[int, tuple[int, int]] = {}
    for skey, value in engine.iterate(SYS, b"count:", b"count;"):
        try:
            stored[int(skey[6:])] = _COUNTS.unpack(value)
        except (ValueError, struct.error):
            stored[-1] = (0, 0)
    for db in sorted(set(stored) | set(counts)):
        if db < 0:
            continue
        want = tuple(counts.get(db, (0, 0)))
        have = stored.get(db, (0, 0))
        if have != want:
            problems.append(Problem(
                "counter", f"db{db}: key counter says {have[0]} keys / {have[1]} with expiry, "
                f"the store holds {want[0]} / {want[1]}",
                partial(put, SYS, b"count:%d" % db, _COUNTS.pack(*want))))

    # --- write log ---------------------------------------------------------------------------
    for lkey, value in engine.iterate(LOG, b""):
        body = value[4:]
        if len(value) < 4 or zlib.crc32(body).to_bytes(4, "big") != value[:4]:
            problems.append(Problem(
                "log", f"write-log record {U64.unpack(lkey)[0] if len(lkey) == 8 else lkey!r} "
                "fails its CRC; not repaired (replicas need a full resync)"))
    return problems


def _check_moved(engine, expected: dict[bytes, bytes]) -> list[Problem]:
    """The ``moved:`` registry (``layout``, "Home db") against the collections that live
    outside their home db: FLUSHDB of the home would delete the sub-keys of one missing from
    it, and one listed but not there would keep its sub-keys from FLUSHDB."""
    problems = []
    for skey, where in engine.iterate(SYS, layout.MOVED_PREFIX, layout.MOVED_END):
        want = expected.pop(skey, None)
        if want != where:
            version = skey[len(layout.MOVED_PREFIX):].hex()
            fix = (partial(engine.delete, SYS, skey) if want is None
                   else partial(engine.put, SYS, skey, want))
            problems.append(Problem(
                "moved", f"moved-collection registry: id {version} listed in db{where[:1].hex()}"
                f", {'not moved' if want is None else 'is in db' + want.hex()}", fix))
    for skey, want in sorted(expected.items()):
        problems.append(Problem(
            "moved", f"moved-collection registry: id {skey[len(layout.MOVED_PREFIX):].hex()} "
            f"(in db{want.hex()}) missing", partial(engine.put, SYS, skey, want)))
    return problems


def _remove(engine, db: int, key: bytes, raw: bytes, prefix: bytes) -> None:
    expire = U64.unpack_from(raw, 1)[0]
    if expire:
        engine.delete(EXPIRE, layout.expire_key(db, expire, key))
    if prefix[0] != db:
        engine.delete(SYS, layout.moved_key(U64.unpack_from(raw, 9)[0]))
    engine.delete(META, layout.meta_key(db, key))
    end = layout.prefix_end(prefix)
    engine.delete_range(DATA, prefix, end)
    engine.delete_range(ZSCORE, prefix, end)


def _fix_size(engine, db, key, raw, actual):
    def fix() -> None:
        if actual == 0:
            _remove(engine, db, key, raw, layout.sub_prefix(db, U64.unpack_from(raw, 9)[0]))
        else:
            engine.put(META, layout.meta_key(db, key), raw[:17] + U64.pack(actual) + raw[25:])
    return fix


def _fix_list(engine, db, key, raw, prefix):
    def fix() -> None:
        elements = [v for _, v in engine.iterate(DATA, prefix, layout.prefix_end(prefix))]
        if not elements:
            _remove(engine, db, key, raw, prefix)
            return
        _t, expire, version, _s, head, _tail = _LIST.unpack_from(raw)
        engine.delete_range(DATA, prefix, layout.prefix_end(prefix))
        for i, value in enumerate(elements):
            engine.put(DATA, prefix + U64.pack(head + i), value)
        engine.put(META, layout.meta_key(db, key),
                   _LIST.pack(LIST, expire, version, len(elements), head, head + len(elements))
                   + raw[_LIST.size:])
    return fix


def _fix_zset(engine, db, key, raw, prefix, actual):
    def fix() -> None:
        if actual == 0:
            _remove(engine, db, key, raw, prefix)
            return
        end = layout.prefix_end(prefix)
        n = len(prefix)
        members = list(engine.iterate(DATA, prefix, end))
        engine.delete_range(ZSCORE, prefix, end)
        for sub, score in members:
            engine.put(ZSCORE, prefix + score + sub[n:], b"")
        if zset.indexed(raw):
            zset_rank.build_index(engine, prefix)
        engine.put(META, layout.meta_key(db, key), raw[:17] + U64.pack(len(members)) + raw[25:])
    return fix


def scan_files(engine) -> Problem | None:
    """Read every block of every column family (checksums verified): the first damage found,
    as a problem, or None."""
    for cf, name in enumerate(layout.CF_NAMES):
        try:
            for _ in engine.iterate(cf, b""):
                pass
        except Exception as exc:  # noqa: BLE001 - RocksDB raises a bare Exception
            return Problem("corrupt", f"column family {name}: {' '.join(str(exc).split())}")
    return None


def _open_and_scan(path: str):
    """(engine or None, damage or None)."""
    try:
        engine = open_engine(path)
    except StoreOpenError as exc:
        return None, Problem("corrupt", f"RocksDB cannot open the store: {exc}")
    problem = scan_files(engine)
    return engine, problem


def rebuild(path: str) -> None:
    """RocksDB's RepairDB on ``path``, with the options the server opens it with."""
    import rocksdict

    rocksdict.Rdict.repair(path, rocks.options(8, "lz4", 8).db)


def run(args) -> int:
    out = sys.stdout
    started = time.monotonic()
    engine, damage = _open_and_scan(args.dir)
    if damage is not None:
        print(damage, file=out)
        if not args.repair:
            if engine is not None:
                engine.close()
            print(f"1 problem(s) in {args.dir}: damaged files ('ledis repair' rebuilds the "
                  f"store from what RocksDB can read) ({time.monotonic() - started:.2f} s)",
                  file=out)
            return 1
        if engine is not None:
            engine.close()
        try:
            rebuild(args.dir)
        except Exception as exc:  # noqa: BLE001
            print(f"RocksDB's repair failed: {' '.join(str(exc).split())}", file=out)
            return 1
        lost = os.path.join(args.dir, "lost")
        print("rebuilt the store with RocksDB's repair"
              + (f"; unreadable files moved to {lost}" if os.path.isdir(lost) else ""),
              file=out)
        engine, damage = _open_and_scan(args.dir)
        if damage is not None:
            print(f"  still: {damage}", file=out)
            if engine is not None:
                engine.close()
            return 1
    try:
        problems = check(engine)
        for problem in problems:
            print(problem, file=out)
        if not args.repair:
            print(f"{len(problems)} problem(s) in {args.dir} "
                  f"({time.monotonic() - started:.2f} s)", file=out)
            return 1 if problems else 0
        # Some fixes make others (removing an emptied collection changes the counters and
        # the expire index): fix, re-check, a few rounds.
        fixed = 0
        left = problems
        for _round in range(3):
            fixable = [p for p in left if p.fix is not None]
            if not fixable:
                break
            for problem in fixable:
                assert problem.fix is not None  # filtered above
                problem.fix()
            fixed += len(fixable)
            engine.commit()
            left = check(engine)
            for problem in left:
                if problem.fix is not None:
                    print(problem, file=out)
        engine.flush_wal()
        print(f"repaired {fixed} problem(s); "
              f"{len(left)} left ({time.monotonic() - started:.2f} s)", file=out)
        for problem in left:
            print(f"  still: {problem}", file=out)
        return 1 if left else 0
    finally:
        engine.close()
