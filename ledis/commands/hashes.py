"""Hash commands (Redis 7.0) and LedisDB's HCLEAR / HMCLEAR.

Arguments are parsed first, then ``ledis.storage.types.hash`` does the work.

**HSCAN / SSCAN cursors.** Sub-keys are sorted, so a position is "the last field looked at"
and the next call resumes strictly after it. The cursor names that field: a field of up to 7
bytes is encoded in the number itself (``int.from_bytes(b"\\x01" + field)``, below 2**57:
stateless, survives restarts); a longer one gets a number >= 2**63 from a bounded per-server
table (:class:`ScanPositions`). A cursor that is neither is ``ERR invalid cursor``. A
collection of at most 128 items is returned whole with cursor 0, as Redis does for its small
encodings.

LedisDB extras: ``HCLEAR key`` deletes a hash and returns its number of fields;
``HMCLEAR key [key ...]`` deletes several and returns the number of keys given (both as in
LedisDB); both answer WRONGTYPE for a key of another type (LedisDB has per-type namespaces).
"""

from __future__ import annotations

import random
from collections import OrderedDict
from collections.abc import Callable

from ledis import errors
from ledis.commands import streaming
from ledis.commands.args import parse_int, parse_scan_cursor, parse_scan_options
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, PairList
from ledis.storage.layout import U64
from ledis.storage.types import hash as hashes

_HASH = hashes.HASH
_size = U64.unpack_from  # a collection's size: raw[17:25] of its metadata
_STREAM_MIN = streaming.STREAM_MIN
_LONG_MAX = 2**63 - 1
_ENCODED_LIMIT = 2**63


# --- SCAN cursors (shared with sets) ---------------------------------------------------------
class ScanPositions:
    """Cursor number (>= 2**63) -> last sub-key, for sub-keys too long to encode inline."""

    MAX = 100_000

    def __init__(self) -> None:
        self.positions: OrderedDict[int, bytes] = OrderedDict()
        self.next_id = _ENCODED_LIMIT + random.getrandbits(40)

    def issue(self, sub: bytes) -> int:
        self.next_id += 1
        if self.next_id >= 2**64:
            self.next_id = _ENCODED_LIMIT + 1
        self.positions[self.next_id] = sub
        if len(self.positions) > self.MAX:
            self.positions.popitem(last=False)
        return self.next_id

    def get(self, cursor: int) -> bytes:
        try:
            return self.positions[cursor]
        except KeyError:
            raise LedisError(errors.INVALID_CURSOR) from None


POSITIONS = ScanPositions()


def cursor_position(cursor: int) -> bytes | None:
    """The sub-key to resume after (None: start from the beginning)."""
    if cursor == 0:
        return None
    if cursor >= _ENCODED_LIMIT:
        return POSITIONS.get(cursor)
    raw = cursor.to_bytes((cursor.bit_length() + 7) // 8, "big")
    if raw[0] != 1:
        raise LedisError(errors.INVALID_CURSOR)
    return raw[1:]


def cursor_for(sub: bytes | None) -> bytes:
    if sub is None:
        return b"0"
    if len(sub) <= 7:
        return b"%d" % int.from_bytes(b"\x01" + sub, "big")
    return b"%d" % POSITIONS.issue(sub)


def parse_scan_match(
    argv: list[bytes], start: int
) -> tuple[int, Callable[[bytes], bool] | None]:
    """``[MATCH pattern] [COUNT count]`` of HSCAN/SSCAN -> (count, predicate or None)."""
    from ledis import glob

    count, pattern, _ = parse_scan_options(argv, start)
    return count, None if pattern is None or pattern == b"*" else glob.compile(pattern)


def parse_random_count(raw: bytes) -> int:
    """SRANDMEMBER / HRANDFIELD count: a signed integer in -LONG_MAX .. LONG_MAX."""
    count = parse_int(raw)
    if count < -_LONG_MAX:
        raise LedisError(errors.COUNT_RANGE_SIGNED)
    return count


# --- commands ----------------------------------------------------------------------------
@command("hset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         summary="Set the string value of a hash field", since="2.0.0",
         complexity=(
             "O(1) for each field/value pair added, so O(N) to add N field/value pairs when "
             "the command is called with multiple field/value pairs."
         ),
         acl="@write @hash @fast")
def cmd_hset(ctx, argv):
    if len(argv) & 1:
        raise LedisError(errors.WRONG_ARITY.format("hset"))
    return hashes.set_many(ctx.db, argv[1], argv)


@command("hmset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         summary="Set multiple hash fields to multiple values", since="2.0.0",
         complexity="O(N) where N is the number of fields being set.",
         acl="@write @hash @fast")
def cmd_hmset(ctx, argv):
    if len(argv) & 1:
        raise LedisError(errors.WRONG_ARITY.format("hmset"))
    hashes.set_many(ctx.db, argv[1], argv)
    return OK


@command("hsetnx", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         summary="Set the value of a hash field, only if the field does not exist",
         complexity="O(1)",
         since="2.0.0", acl="@write @hash @fast")
def cmd_hsetnx(ctx, argv):
    return int(hashes.set_if_missing(ctx.db, argv[1], argv[2], argv[3]))


@command("hget", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         complexity="O(1)",
         summary="Get the value of a hash field", since="2.0.0", acl="@read @hash @fast")
def cmd_hget(ctx, argv):
    return hashes.get(ctx.db, argv[1], argv[2])


@command("hmget", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         summary="Get the values of all the given hash fields", since="2.0.0",
         complexity="O(N) where N is the number of fields being requested.",
         acl="@read @hash @fast")
def cmd_hmget(ctx, argv):
    return hashes.get_many(ctx.db, argv[1], argv[2:])


@command("hdel", arity=-3, flags="write fast", keys=(1, 1, 1), group="hash",
         complexity="O(N) where N is the number of fields to be removed.",
         summary="Delete one or more hash fields", since="2.0.0", acl="@write @hash @fast")
def cmd_hdel(ctx, argv):
    return hashes.delete(ctx.db, argv[1], argv[2:])


@command("hlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="hash",
         complexity="O(1)",
         summary="Get the number of fields in a hash", since="2.0.0", acl="@read @hash @fast")
def cmd_hlen(ctx, argv):
    return hashes.length(ctx.db, argv[1])


@command("hstrlen", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         summary="Get the length of the value of a hash field", since="3.2.0",
         complexity="O(1)",
         acl="@read @hash @fast")
def cmd_hstrlen(ctx, argv):
    value = hashes.get(ctx.db, argv[1], argv[2])
    return 0 if value is None else len(value)


@command("hexists", arity=3, flags="readonly fast", keys=(1, 1, 1), group="hash",
         complexity="O(1)",
         summary="Determine if a hash field exists", since="2.0.0", acl="@read @hash @fast")
def cmd_hexists(ctx, argv):
    return int(hashes.exists(ctx.db, argv[1], argv[2]))


@command("hkeys", arity=2, flags="readonly", keys=(1, 1, 1), group="hash",
         complexity="O(N) where N is the size of the hash.",
         summary="Get all the fields in a hash", since="2.0.0", acl="@read @hash @slow")
def cmd_hkeys(ctx, argv):
    raw = ctx.db.read_type(argv[1], _HASH)
    if raw is None:
        return []
    size = _size(raw, 17)[0]
    if size > _STREAM_MIN and (chunk := streaming.chunk_size(ctx, size)):
        walk, skip = hashes.walk(ctx.db, argv[1], raw)
        return streaming.streamed(streaming.sub_keys(walk, skip, chunk), size)
    return hashes.subs(ctx.db, argv[1], raw)


@command("hvals", arity=2, flags="readonly", keys=(1, 1, 1), group="hash",
         complexity="O(N) where N is the size of the hash.",
         summary="Get all the values in a hash", since="2.0.0", acl="@read @hash @slow")
def cmd_hvals(ctx, argv):
    raw = ctx.db.read_type(argv[1], _HASH)
    if raw is None:
        return []
    size = _size(raw, 17)[0]
    if size > _STREAM_MIN and (chunk := streaming.chunk_size(ctx, size)):
        walk, _skip = hashes.walk(ctx.db, argv[1], raw)
        return streaming.streamed(streaming.values(walk, chunk), size)
    return [v for _, v in hashes.pairs(ctx.db, argv[1], raw)]


@command("hgetall", arity=2, flags="readonly", keys=(1, 1, 1), group="hash",
         summary="Get all the fields and values in a hash", since="2.0.0",
         complexity="O(N) where N is the size of the hash.",
         acl="@read @hash @slow")
def cmd_hgetall(ctx, argv):
    raw = ctx.db.read_type(argv[1], _HASH)
    if raw is None:
        return PairList()
    size = _size(raw, 17)[0]
    # a big hash: sent in chunks (ledis/commands/streaming.py)
    if size > _STREAM_MIN and (chunk := streaming.chunk_size(ctx, size)):
        walk, skip = hashes.walk(ctx.db, argv[1], raw)
        return streaming.streamed(streaming.pairs(walk, skip, chunk), size, b"%")
    return PairList(hashes.pairs(ctx.db, argv[1], raw))


@command("hincrby", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         summary="Increment the integer value of a hash field by the given number",
         complexity="O(1)",
         since="2.0.0", acl="@write @hash @fast")
def cmd_hincrby(ctx, argv):
    delta = parse_int(argv[3])
    return hashes.incr_by(ctx.db, argv[1], argv[2], delta)


@command("hincrbyfloat", arity=4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
         summary="Increment the float value of a hash field by the given amount",
         complexity="O(1)",
         since="2.6.0", acl="@write @hash @fast")
def cmd_hincrbyfloat(ctx, argv):
    return hashes.incr_by_float(ctx.db, argv[1], argv[2], argv[3])


@command("hrandfield", arity=-2, flags="readonly", keys=(1, 1, 1), group="hash",
         summary="Get one or multiple random fields from a hash", since="6.2.0",
         complexity="O(N) where N is the number of fields returned",
         acl="@read @hash @slow")
def cmd_hrandfield(ctx, argv):
    db = ctx.db
    if len(argv) == 2:
        raw = db.read_type(argv[1], hashes.HASH)
        if raw is None:
            return None
        return hashes.sample(db, argv[1], raw, 1, True)[0][0]
    count = parse_random_count(argv[2])
    with_values = False
    if len(argv) > 4 or (len(argv) == 4 and argv[3].upper() != b"WITHVALUES"):
        raise LedisError(errors.SYNTAX)
    if len(argv) == 4:
        with_values = True
        if not -(_LONG_MAX // 2) <= count <= _LONG_MAX // 2:
            raise LedisError(errors.COUNT_OUT_OF_RANGE)
    raw = db.read_type(argv[1], hashes.HASH)
    if raw is None or count == 0:
        return []
    picked = hashes.sample(db, argv[1], raw, abs(count), count > 0)
    if not with_values:
        return [f for f, _ in picked]
    if ctx.resp == 3:
        return [[f, v] for f, v in picked]
    out = []
    for f, v in picked:
        out.append(f)
        out.append(v)
    return out


@command("hscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="hash",
         summary="Incrementally iterate hash fields and associated values", since="2.8.0",
         complexity=(
             "O(1) for every call. O(N) for a complete iteration, including enough command "
             "calls for the cursor to return back to 0. N is the number of elements inside the"
             " collection.."
         ),
         acl="@read @hash @slow")
def cmd_hscan(ctx, argv):
    cursor = parse_scan_cursor(argv[2])
    db = ctx.db
    raw = db.read_type(argv[1], hashes.HASH)
    if raw is None:  # Redis answers before looking at the options
        return [b"0", []]
    count, match = parse_scan_match(argv, 3)
    # A small hash comes whole whatever the cursor (as Redis's listpack encoding).
    after = None if hashes.size_of(raw) <= hashes.SCAN_ALL_AT_ONCE else cursor_position(cursor)
    found, last = hashes.scan(db, argv[1], raw, after, count, match)
    out = []
    for f, v in found:
        out.append(f)
        out.append(v)
    return [cursor_for(last), out]


@command("hclear", arity=2, flags="write", keys=(1, 1, 1), group="hash",
         summary="Delete a hash (LedisDB); returns its number of fields", since="1.0.0",
         acl="@write @hash @slow")
def cmd_hclear(ctx, argv):
    return hashes.clear(ctx.db, argv[1], hashes.HASH)


@command("hmclear", arity=-2, flags="write", keys=(1, -1, 1), group="hash",
         summary="Delete hashes (LedisDB); returns the number of keys given", since="1.0.0",
         acl="@write @hash @slow")
def cmd_hmclear(ctx, argv):
    db = ctx.db
    keys = argv[1:]
    hashes.check_types(db, keys, hashes.HASH)
    for key in keys:
        hashes.clear(db, key, hashes.HASH)
    return len(keys)
