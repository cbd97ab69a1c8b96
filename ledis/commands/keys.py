"""Keyspace commands: DEL, EXISTS, TYPE, KEYS/SCAN, RANDOMKEY, RENAME, MOVE, COPY, SWAPDB.
The EXPIRE family is in ``commands/expire.py``, OBJECT in ``commands/objects.py``.

These work on any type through the metadata gate (``ledis.storage.keyspace``) and never look
inside a value, except where a generic copy is needed (MOVE/COPY use ``keyspace.copy_value``,
which re-prefixes a collection's sub-keys under a new version, O(n); RENAME within a db is
``Database.rename``, O(1): sub-keys are addressed by the collection's version, not its name).

**SCAN cursors.** Keys are walked in key order (the ``meta`` family is sorted), so a position
is simply "the last key looked at". A cursor is an opaque integer naming that position in a
per-server table (:class:`ScanCursors`, bounded to ``MAX_CURSORS`` entries, oldest dropped
first). Because the walk is ordered and resumes strictly after the remembered key, every key
present for the whole scan is returned exactly once, and keys added or removed meanwhile may
or may not be. COUNT is the number of stored keys examined per call (expired or filtered keys
included), like Redis's buckets, so a call may return fewer keys than COUNT and a non-zero
cursor. With MATCH, the literal prefix of the pattern (``user:*`` -> ``user:``) bounds the walk
to that key range. Trade-offs: cursors do not survive a restart, and a cursor this server never
issued (or has forgotten) is answered ``ERR invalid cursor`` rather than silently restarting.
"""

from __future__ import annotations

import os
import random
from collections import OrderedDict
from collections.abc import Callable, Iterator
from itertools import islice

from ledis import errors, glob
from ledis.commands import streaming
from ledis.commands.args import ArgCursor, parse_c_int, parse_scan_cursor, parse_scan_options
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Pending, Simple
from ledis.storage import layout
from ledis.storage.keyspace import Database, copy_value
from ledis.storage.layout import META, U64, now_ms

_NONE = Simple(b"none")
_TYPE_REPLIES = {code: Simple(name) for code, name in layout.TYPE_NAMES.items()}


# --- existence ---------------------------------------------------------------------------------
@command("del", arity=-2, flags="write", keys=(1, -1, 1), group="generic",
         summary="Delete a key",
         since="1.0.0",
         complexity=("O(N) where N is the number of keys that will be removed. When a key to "
                     "remove holds a value other than a string, the individual complexity for "
                     "this key is O(M) where M is the number of elements in the list, set, sorted"
                     " set or hash. Removing a single key that holds a string value is O(1)."),
         acl="@keyspace @write @slow")
def cmd_del(ctx, argv):
    db = ctx.db
    return sum(db.delete(key) for key in argv[1:])


@command("unlink", arity=-2, flags="write fast", keys=(1, -1, 1), group="generic",
         summary=("Delete a key asynchronously in another thread. Otherwise it is just as DEL, "
                  "but non blocking."),
         since="4.0.0",
         complexity=("O(1) for each key removed regardless of its size. Then the command does "
                     "O(N) work in a different thread in order to reclaim memory, where N is the "
                     "number of allocations the deleted objects where composed of."),
         acl="@keyspace @write @fast")
def cmd_unlink(ctx, argv):
    # DEL is already O(1) per key: one range tombstone for a big collection's sub-keys, at
    # most Engine.FEW_KEYS point deletes for a small one (Database._drop_version).
    db = ctx.db
    return sum(db.delete(key) for key in argv[1:])


@command("exists", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         summary="Determine if a key exists",
         since="1.0.0",
         complexity="O(N) where N is the number of keys to check.",
         acl="@keyspace @read @fast")
def cmd_exists(ctx, argv):
    db = ctx.db
    return sum(db.read(key) is not None for key in argv[1:])


@command("touch", arity=-2, flags="readonly fast", keys=(1, -1, 1), group="generic",
         summary=("Alters the last access time of a key(s). Returns the number of existing keys "
                  "specified."),
         since="3.2.1",
         complexity="O(N) where N is the number of keys that will be touched.",
         acl="@keyspace @read @fast")
def cmd_touch(ctx, argv):
    db = ctx.db
    return sum(db.read(key) is not None for key in argv[1:])


@command("type", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         summary="Determine the type stored at key",
         since="1.0.0",
         complexity="O(1)",
         acl="@keyspace @read @fast")
def cmd_type(ctx, argv):
    raw = ctx.db.read(argv[1])
    if raw is None:
        return _NONE
    return _TYPE_REPLIES.get(raw[0], _NONE)


# --- walking the keyspace ------------------------------------------------------------------------
def _bounds(db: Database, pattern: bytes | None) -> tuple[bytes, bytes | None]:
    """[start, end) of the meta keys of ``db`` that can match ``pattern``."""
    prefix = db.prefix
    db_end = layout.DB_BYTES[db.index + 1] if db.index < 255 else None
    literal = glob.literal_prefix(pattern) if pattern else b""
    if not literal:
        return prefix, db_end
    start = prefix + literal
    try:
        return start, layout.prefix_end(start)
    except ValueError:
        return start, db_end


@command("keys", arity=2, flags="readonly", keys=(0, 0, 0), group="generic",
         summary="Find all keys matching the given pattern",
         since="1.0.0",
         complexity=("O(N) with N being the number of keys in the database, under the assumption "
                     "that the key names in the database and the given pattern have limited "
                     "length."),
         acl="@keyspace @read @slow @dangerous")
def cmd_keys(ctx, argv):
    db = ctx.db
    pattern = argv[1]
    matches = glob.compile(pattern)
    start, end = _bounds(db, pattern)
    n = len(db.prefix)
    now = now_ms()
    size = streaming.chunk_size(ctx, db.keys)
    if size:  # many keys: sent in chunks (ledis/commands/streaming.py)
        walk = db.engine.walk(META, start, end)
        return streaming.streamed(streaming.live_keys(walk, n, size, now,
                                                      None if pattern == b"*" else matches))
    out = []
    for k, raw in db.engine.iterate(META, start, end):
        expire = U64.unpack_from(raw, 1)[0]
        if expire and expire <= now:
            continue
        key = k[n:]
        if matches(key):
            out.append(key)
    return out


class ScanCursors:
    """Cursor number -> last key examined (see the module docstring)."""

    MAX_CURSORS = 100_000

    def __init__(self) -> None:
        self.positions: OrderedDict[int, bytes] = OrderedDict()
        # Random start so that cursors of different server runs rarely collide.
        self.next_id = int.from_bytes(os.urandom(4), "big") | 1

    def issue(self, last_key: bytes) -> int:
        cursor = self.next_id
        self.next_id = (self.next_id + 1) % (1 << 63) or 1
        self.positions[cursor] = last_key
        if len(self.positions) > self.MAX_CURSORS:
            self.positions.popitem(last=False)
        return cursor

    def position(self, cursor: int) -> bytes:
        try:
            return self.positions[cursor]
        except KeyError:
            raise LedisError(errors.SCAN_CURSOR_UNKNOWN) from None


def _cursors(core) -> ScanCursors:
    table = getattr(core, "scan_cursors", None)
    if table is None:
        table = core.scan_cursors = ScanCursors()
    return table


@command("scan", arity=-2, flags="readonly", keys=(0, 0, 0), group="generic",
         summary="Incrementally iterate the keys space",
         since="2.8.0",
         complexity=("O(1) for every call. O(N) for a complete iteration, including enough "
                     "command calls for the cursor to return back to 0. N is the number of "
                     "elements inside the collection."),
         acl="@keyspace @read @slow")
def cmd_scan(ctx, argv):
    cursor = parse_scan_cursor(argv[1])
    count, pattern, type_name = parse_scan_options(argv, 2, with_type=True)

    table = _cursors(ctx.core)
    db = ctx.db
    start, end = _bounds(db, pattern)
    n = len(db.prefix)
    if cursor:
        after = db.prefix + table.position(cursor) + b"\x00"  # strictly after the last key
        if after > start:
            start = after
    matches = glob.compile(pattern) if pattern is not None and pattern != b"*" else None
    now = now_ms()
    size = streaming.chunk_size(ctx, count)
    if size:  # a huge COUNT: sent in chunks (ledis/commands/streaming.py)
        return _streamed_scan(db, table, db.engine.walk(META, start, end), n, count, size, now,
                              matches, type_name)
    out = []
    examined = 0
    last = None
    for k, raw in db.engine.iterate(META, start, end):
        if examined >= count:
            break
        examined += 1
        last = k
        key = k[n:]
        if type_name is not None:  # TYPE's lookups count (keyspace hits / misses)
            if _listed(db, key, raw, now, matches, type_name):
                out.append(key)
        elif not 0 < U64.unpack_from(raw, 1)[0] <= now and (matches is None or matches(key)):
            out.append(key)  # the common case inline: a call per key is ~13% of SCAN
    else:
        last = None  # the walk reached the end of the range: iteration complete
    next_cursor = table.issue(last[n:]) if last is not None else 0
    return [b"%d" % next_cursor, out]


def _listed(db, key: bytes, raw: bytes, now: int, matches: Callable[[bytes], object] | None,
            type_name: bytes | None) -> bool:
    """Whether SCAN lists ``key``: Redis's filters in their order, the pattern, then the type
    (a read lookup: a keyspace hit, or for an expired key a miss), then expiry."""
    if matches is not None and not matches(key):
        return False
    live = not 0 < U64.unpack_from(raw, 1)[0] <= now
    if type_name is not None:
        if not live:
            db.missed(key)
            return False
        db.hits += 1
        return layout.TYPE_NAMES.get(raw[0], b"") == type_name
    return live


def _streamed_scan(db, table: ScanCursors, walk: Iterator[tuple[bytes, bytes]], skip: int,
                   count: int, size: int, now: int, matches: Callable[[bytes], object] | None,
                   type_name: bytes | None) -> Pending:
    """SCAN's walk in chunks of ``size`` keys examined; the cursor (the reply's first
    element) is known at the end, so the chunks are held until then (``Stream.opening``)."""
    last: list[bytes | None] = [None]

    def chunks() -> Iterator[tuple[int, bytes]]:
        examined = 0
        while examined < count:
            part = list(islice(walk, min(size, count - examined)))
            if not part:
                last[0] = None  # the walk reached the end of the range: iteration complete
                return
            examined += len(part)
            last[0] = part[-1][0]
            if type_name is not None:
                names = [k[skip:] for k, raw in part
                         if _listed(db, k[skip:], raw, now, matches, type_name)]
            else:
                names = [k[skip:] for k, raw in part if not 0 < U64.unpack_from(raw, 1)[0] <= now]
                if matches is not None:
                    names = [k for k in names if matches(k)]
            yield len(names), b"".join([b"$%d\r\n%s\r\n" % (len(k), k) for k in names])
        if next(walk, None) is None:
            last[0] = None

    def opening() -> bytes:
        cursor = b"%d" % (table.issue(last[0][skip:]) if last[0] is not None else 0)
        return b"*2\r\n$%d\r\n%s\r\n" % (len(cursor), cursor)

    return streaming.streamed(chunks(), opening=opening)


# LedisDB's type names for XSCAN (its KV type is Redis's string).
_XSCAN_TYPES = {b"kv": b"string", b"string": b"string", b"hash": b"hash", b"list": b"list",
                b"set": b"set", b"zset": b"zset", b"stream": b"stream"}


@command("xscan", arity=-3, flags="readonly", group="generic",
         summary="LedisDB extra: SCAN the keys of one type (KV, HASH, LIST, SET, ZSET, STREAM)",
         since="1.0.0", acl="@keyspace @read @slow")
def cmd_xscan(ctx, argv):
    """``XSCAN type cursor [MATCH p] [COUNT n]`` = ``SCAN cursor ... TYPE type``.

    LedisDB's cursors were keys; ledis keeps Redis's integer cursors (docs/ledisdb-differences.md).
    """
    type_name = _XSCAN_TYPES.get(argv[1].lower())
    if type_name is None:
        raise LedisError(errors.XSCAN_TYPE.format(argv[1].decode("utf-8", "replace")))
    return cmd_scan(ctx, [b"scan", argv[2], *argv[3:], b"TYPE", type_name])


@command("randomkey", arity=1, flags="readonly", keys=(0, 0, 0), group="generic",
         summary="Return a random key from the keyspace",
         since="1.0.0",
         complexity="O(1)",
         acl="@keyspace @read @slow")
def cmd_randomkey(ctx, argv):
    db = ctx.db
    if db.keys <= 0:
        return None
    start, end = _bounds(db, None)
    engine = db.engine
    n = len(db.prefix)
    now = now_ms()
    pick = None
    for _ in range(5):  # an expired pick: try again, then walk on from the last pick
        pick = _random_meta_key(engine, start, end)
        if pick is None:
            return None
        raw = engine.get(META, pick)
        if raw is not None and db.is_live(raw):
            return pick[n:]
    budget = 10_000  # bounded work when a long run of keys is expired but not yet reclaimed
    for lower, upper in ((pick, end), (start, pick)):
        for k, raw in engine.iterate(META, lower, upper):
            expire = U64.unpack_from(raw, 1)[0]
            if not expire or expire > now:
                return k[n:]
            budget -= 1
            if not budget:
                return None
    return None


def _first_key(engine, lower: bytes, upper: bytes | None, reverse: bool = False):
    for k, _ in engine.iterate(META, lower, upper, reverse):
        return k
    return None


def _random_meta_key(engine, start: bytes, end: bytes | None) -> bytes | None:
    """A random stored key in ``[start, end)``, picked by walking down the sorted keys like a
    trie: between the smallest and the largest key under the current prefix, choose a random
    next byte and seek to it (an empty branch yields the next non-empty one). O(key length)
    seeks; every key can be reached; uniform when keys are evenly spread (``user:000001`` ..
    ``user:999999``), biased toward small branches of a lopsided key space."""
    low = _first_key(engine, start, end)
    if low is None:
        return None
    high = _first_key(engine, start, end, reverse=True)
    while low != high:
        common = os.path.commonprefix([low, high])
        pos = len(common)
        common_end = _end_of(common, end)
        if len(low) > pos:
            first_byte = low[pos]
        else:  # the prefix itself is a key: it counts as one more branch, before the others
            after = _first_key(engine, low + b"\x00", common_end) or high
            first_byte = after[pos] - 1
        # Rejection sampling over next bytes: a byte with no keys under it is drawn again (a
        # few times), so gaps in the byte alphabet ("0-9" then "a-f") do not favour the branch
        # after them; after that the next non-empty branch is taken.
        for _attempt in range(16):
            byte = random.randint(first_byte, high[pos])
            if byte == first_byte and len(low) == pos:
                return low
            branch = common + layout.DB_BYTES[byte]
            found = _first_key(engine, branch, common_end) or high
            if found.startswith(branch):
                break
        branch = common + found[pos:pos + 1]
        branch_end = _end_of(branch, end)
        low = _first_key(engine, branch, branch_end)
        high = _first_key(engine, branch, branch_end, reverse=True)
        if low is None or high is None:  # cannot happen: the branch holds ``found``
            return found
    return low


def _end_of(prefix: bytes, limit: bytes | None) -> bytes | None:
    try:
        return layout.prefix_end(prefix)
    except ValueError:
        return limit


# --- moving values ------------------------------------------------------------------------------
def _db_by_number(ctx, raw: bytes, message: str | None = None) -> Database:
    """A db number as Redis parses it: getIntFromObjectOrReply (MOVE, COPY ... DB; SWAPDB
    with its own message)."""
    index = parse_c_int(raw, message)
    dbs = ctx.core.store.dbs
    if not 0 <= index < len(dbs):
        raise LedisError(errors.DB_INDEX)
    return dbs[index]


def _signal_ready(db: Database, key: bytes, raw: bytes) -> None:
    """A list, sorted set or stream appeared under ``key``: wake clients blocked on it (as
    Redis's signalKeyAsReady in RENAME/MOVE/COPY)."""
    if raw[0] in (layout.LIST, layout.ZSET, layout.STREAM):
        from ledis import blocking  # lazy: blocking imports the command package

        blocking.key_ready(db, key)


def _rename(ctx, argv, nx: bool):
    db = ctx.db
    src, dst = argv[1], argv[2]
    raw = db.lookup(src)
    if raw is None:
        raise LedisError(errors.NO_SUCH_KEY)
    if src == dst:
        return 0 if nx else OK
    old = db.raw(dst)
    if nx and db.is_live(old):
        return 0
    db.rename(src, raw, dst, old)  # O(1): only the metadata moves
    _signal_ready(db, dst, raw)
    return 1 if nx else OK


@command("rename", arity=3, flags="write", keys=(1, 2, 1), group="generic",
         summary="Rename a key",
         since="1.0.0",
         complexity="O(1)",
         acl="@keyspace @write @slow")
def cmd_rename(ctx, argv):
    return _rename(ctx, argv, False)


@command("renamenx", arity=3, flags="write fast", keys=(1, 2, 1), group="generic",
         summary="Rename a key, only if the new key does not exist",
         since="1.0.0",
         complexity="O(1)",
         acl="@keyspace @write @fast")
def cmd_renamenx(ctx, argv):
    return _rename(ctx, argv, True)


@command("move", arity=3, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Move a key to another database",
         since="1.0.0",
         complexity="O(1)",  # a collection keeps its sub-keys under its home db (layout)
         acl="@keyspace @write @fast")
def cmd_move(ctx, argv):
    src_db = ctx.db
    dst_db = _db_by_number(ctx, argv[2])
    if dst_db is src_db:
        raise LedisError(errors.SAME_OBJECT)
    key = argv[1]
    raw = src_db.lookup(key)
    if raw is None:
        return 0
    old = dst_db.raw(key)
    if dst_db.is_live(old):
        return 0
    if raw[0] != layout.STRING and raw[9] >= 0x80:  # a collection with a home db: O(1)
        dst_db.move_here(src_db, key, raw, old)
        new_raw = raw
    else:  # a string (inline), or a collection of format 2 (copied once under a new id)
        new_raw = copy_value(src_db, key, raw, dst_db, key, U64.unpack_from(raw, 1)[0])
        src_db.remove(key, raw)
        dst_db.replace(key, new_raw, old)
    _signal_ready(dst_db, key, new_raw)
    return 1


@command("copy", arity=-3, flags="write denyoom", keys=(1, 2, 1), group="generic",
         summary="Copy a key",
         since="6.2.0",
         complexity=("O(N) worst case for collections, where N is the number of nested items. "
                     "O(1) for string values."),
         acl="@keyspace @write @slow")
def cmd_copy(ctx, argv):
    src_db = ctx.db
    dst_db = src_db
    replace = False
    args = ArgCursor(argv, 3)
    while args:
        word = args.word()
        if word == b"REPLACE":
            replace = True
        elif word == b"DB" and args:
            dst_db = _db_by_number(ctx, args.take())
        else:
            raise LedisError(errors.SYNTAX)
    src, dst = argv[1], argv[2]
    if dst_db is src_db and src == dst:
        raise LedisError(errors.SAME_OBJECT)
    raw = src_db.read(src)  # Redis's lookupKeyRead: counted
    if raw is None:
        return 0
    old = dst_db.raw(dst)
    if dst_db.is_live(old) and not replace:
        return 0
    new_raw = copy_value(src_db, src, raw, dst_db, dst, U64.unpack_from(raw, 1)[0])
    dst_db.replace(dst, new_raw, old)
    _signal_ready(dst_db, dst, new_raw)
    return 1


@command("swapdb", arity=3, flags="write fast", keys=(0, 0, 0), group="server",
         summary="Swaps two Redis databases",
         since="4.0.0",
         complexity=("O(N) where N is the count of clients watching or blocking on keys from both"
                     " databases."),
         acl="@keyspace @write @fast @dangerous")
def cmd_swapdb(ctx, argv):
    # both numbers are read before either is checked against the databases, as in Redis
    a, b = parse_c_int(argv[1], errors.SWAPDB_FIRST), parse_c_int(argv[2], errors.SWAPDB_SECOND)
    dbs = ctx.core.store.dbs
    if not (0 <= a < len(dbs) and 0 <= b < len(dbs)):
        raise LedisError(errors.DB_INDEX)
    first, second = dbs[a], dbs[b]
    ctx.core.store.swapdb(first.logical, second.logical)
    # Clients blocked on keys of either database may now find data there (waiters are keyed
    # by Database object, which keeps its logical number across the swap).
    from ledis import blocking

    waiting = getattr(blocking, "_waiters", None) or {}
    for db, key in list(waiting):
        if db is first or db is second:
            raw = db.lookup(key)
            if raw is not None:
                _signal_ready(db, key, raw)
    return OK
