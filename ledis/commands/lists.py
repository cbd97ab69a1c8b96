"""List commands: pushes and pops, ranges, LINSERT/LREM/LTRIM/LPOS, moves, blocking pops,
LedisDB's LCLEAR/LMCLEAR, and CLIENT UNBLOCK.

Every argument is parsed before storage is touched (``ledis.storage.types.list`` does the
work). Every write that adds elements to a list calls ``blocking.key_ready`` so that clients
blocked in BLPOP & co. are retried once the current command, script or transaction is done.

Reply shapes follow Redis 7.0 exactly: LPOP without a count answers a bulk (nil when the key
is missing), with a count an array (a null array when the key is missing); BLPOP/BLMPOP/LMPOP
answer a null array on timeout or when nothing is there; BLMOVE/BRPOPLPUSH answer a null
array on timeout but a null bulk when they cannot block (inside MULTI or a script).
"""

from __future__ import annotations

from ledis import blocking, errors
from ledis.blocking import NOT_READY, parse_timeout
from ledis.commands import streaming
from ledis.commands.args import ArgCursor, parse_int, parse_mpop, parse_positive
from ledis.commands.registry import command
from ledis.errors import LedisError, error
from ledis.replies import OK, NullArray, Raw
from ledis.storage.types import list as lst

_key_ready = blocking.key_ready
SYNTAX = LedisError(errors.SYNTAX)
_LONG_MAX = 2**63 - 1


def _side(raw: bytes) -> bool:
    """LEFT -> True, RIGHT -> False (LMOVE, LMPOP)."""
    word = raw.upper()
    if word == b"LEFT":
        return True
    if word == b"RIGHT":
        return False
    raise SYNTAX


def _cannot_block(ctx) -> bool:
    return ctx.multi is not None or ctx.in_script or ctx.conn is None


# --- pushes --------------------------------------------------------------------------------
def _push(ctx, argv, left: bool, only_existing: bool = False) -> int:
    db = ctx.db
    key = argv[1]
    size = lst.push(db, key, argv[2:], left, only_existing)
    if size:
        _key_ready(db, key)
    return size


@command("lpush", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Prepend one or multiple elements to a list", acl="@write @list @fast")
def cmd_lpush(ctx, argv):
    # _push inlined (LPUSH is benchmarked): a Python call fewer
    db = ctx.db
    size = lst.push(db, argv[1], argv[2:], True)
    if size:
        _key_ready(db, argv[1])
    return size


@command("rpush", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Append one or multiple elements to a list", acl="@write @list @fast")
def cmd_rpush(ctx, argv):
    return _push(ctx, argv, False)


@command("lpushx", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Prepend an element to a list, only if the list exists", since="2.2.0",
         acl="@write @list @fast")
def cmd_lpushx(ctx, argv):
    return _push(ctx, argv, True, True)


@command("rpushx", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="list",
         summary="Append an element to a list, only if the list exists", since="2.2.0",
         acl="@write @list @fast")
def cmd_rpushx(ctx, argv):
    return _push(ctx, argv, False, True)


# --- pops ----------------------------------------------------------------------------------
def _pop(ctx, argv, left: bool):
    if len(argv) == 2:
        return lst.pop_one(ctx.db, argv[1], left)
    if len(argv) > 3:
        raise error(errors.WRONG_ARITY, argv[0].decode("utf-8", "replace").lower())
    count = parse_positive(argv[2])
    values = lst.pop(ctx.db, argv[1], left, count)
    return NullArray if values is None else values


@command("lpop", arity=-2, flags="write fast", keys=(1, 1, 1), group="list",
         summary="Remove and get the first elements in a list", acl="@write @list @fast")
def cmd_lpop(ctx, argv):
    return _pop(ctx, argv, True)


@command("rpop", arity=-2, flags="write fast", keys=(1, 1, 1), group="list",
         summary="Remove and get the last elements in a list", acl="@write @list @fast")
def cmd_rpop(ctx, argv):
    if len(argv) == 2:  # _pop's hot case inlined (RPOP is benchmarked): a Python call fewer
        return lst.pop_one(ctx.db, argv[1], False)
    return _pop(ctx, argv, False)


# --- reads ---------------------------------------------------------------------------------
@command("llen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="list",
         summary="Get the length of a list", acl="@read @list @fast")
def cmd_llen(ctx, argv):
    return lst.length(ctx.db, argv[1])


@command("lindex", arity=3, flags="readonly", keys=(1, 1, 1), group="list",
         summary="Get an element from a list by its index", acl="@read @list @slow")
def cmd_lindex(ctx, argv):
    try:
        idx = parse_int(argv[2])
    except LedisError:
        if lst.read_meta(ctx.db, argv[1]) is None:  # Redis looks it up first: nil, no error
            return None
        raise
    return lst.index(ctx.db, argv[1], idx)


@command("lrange", arity=4, flags="readonly", keys=(1, 1, 1), group="list",
         summary="Get a range of elements from a list", acl="@read @list @slow")
def cmd_lrange(ctx, argv):
    found = lst.span(ctx.db, argv[1], parse_int(argv[2]), parse_int(argv[3]))
    if found is None:
        return []
    meta, start, stop = found
    count = stop - start + 1
    # a long range: sent in chunks (ledis/commands/streaming.py)
    if count > streaming.STREAM_MIN and (chunk := streaming.chunk_size(ctx, count)):
        return streaming.streamed(streaming.values(lst.walk(ctx.db, meta, start, stop), chunk),
                                  count)
    values = lst.read(ctx.db, meta, start, stop)
    if ctx.conn is not None and not ctx.in_script and len(values) > 8:
        return _encoded_bulks(values)
    return values


_BULK_HEADERS = [b"$%d\r\n" % n for n in range(512)]


def _encoded_bulks(values: list[bytes]) -> Raw:
    """An array of bulk strings pre-encoded (same bytes in RESP2 and RESP3) for network
    clients: ~4x cheaper than the generic encoder for LRANGE's long replies. Scripts, HTTP
    and the embedded API get the plain list (they have no connection, or ``in_script``)."""
    headers = _BULK_HEADERS
    size = len(values[0])
    if size == len(values[-1]) and size < 512 and len(set(map(len, values))) == 1:
        # elements of one length (ids, fixed-width records, redis-benchmark's LRANGE): one
        # join with the shared header as separator, no bytes object per element (~2x faster)
        header = headers[size]
        return Raw(b"*%d\r\n%s%s\r\n" % (len(values), header, (b"\r\n" + header).join(values)))
    try:
        body = b"\r\n".join([headers[len(v)] + v for v in values])
    except IndexError:  # an element of 512 bytes or more
        body = b"\r\n".join([b"$%d\r\n%s" % (len(v), v) for v in values])
    return Raw(b"*%d\r\n%s\r\n" % (len(values), body))


@command("lpos", arity=-3, flags="readonly", keys=(1, 1, 1), group="list",
         summary="Return the index of matching elements on a list", since="6.0.6",
         acl="@read @list @slow")
def cmd_lpos(ctx, argv):
    rank, count, maxlen = 1, None, 0
    args = ArgCursor(argv, 3)
    while args:
        if args.eat(b"RANK"):
            rank = args.take_int()
            if rank == 0:
                raise LedisError(errors.LPOS_RANK_ZERO)
            if rank == -(2**63):  # Redis negates it and overflows: acts like -1
                rank = -1
        elif args.eat(b"COUNT"):
            count = args.take_int_in(0, _LONG_MAX, errors.LPOS_COUNT_NEGATIVE)
        elif args.eat(b"MAXLEN"):
            maxlen = args.take_int_in(0, _LONG_MAX, errors.LPOS_MAXLEN_NEGATIVE)
        else:
            raise SYNTAX
    found = lst.positions(ctx.db, argv[1], argv[2], rank, count, maxlen)
    if count is not None:
        return found or []
    return found[0] if found else None


# --- in-place writes -----------------------------------------------------------------------
@command("lset", arity=4, flags="write denyoom", keys=(1, 1, 1), group="list",
         summary="Set the value of an element in a list by its index", acl="@write @list @slow")
def cmd_lset(ctx, argv):
    try:
        idx = parse_int(argv[2])
    except LedisError:
        if lst.get(ctx.db, argv[1]) is None:  # Redis looks the key up first: no such key
            raise lst.NO_SUCH_KEY from None
        raise
    lst.set_index(ctx.db, argv[1], idx, argv[3])
    return OK


@command("linsert", arity=5, flags="write denyoom", keys=(1, 1, 1), group="list",
         summary="Insert an element before or after another element in a list",
         since="2.2.0", acl="@write @list @slow")
def cmd_linsert(ctx, argv):
    where = argv[2].upper()
    if where == b"BEFORE":
        before = True
    elif where == b"AFTER":
        before = False
    else:
        raise SYNTAX
    size = lst.insert(ctx.db, argv[1], before, argv[3], argv[4])
    if size > 0:
        _key_ready(ctx.db, argv[1])
    return size


@command("lrem", arity=4, flags="write", keys=(1, 1, 1), group="list",
         summary="Remove elements from a list", acl="@write @list @slow")
def cmd_lrem(ctx, argv):
    return lst.remove(ctx.db, argv[1], parse_int(argv[2]), argv[3])


@command("ltrim", arity=4, flags="write", keys=(1, 1, 1), group="list",
         summary="Trim a list to the specified range", acl="@write @list @slow")
def cmd_ltrim(ctx, argv):
    lst.trim(ctx.db, argv[1], parse_int(argv[2]), parse_int(argv[3]))
    return OK


# --- moves ---------------------------------------------------------------------------------
def _move(ctx, src: bytes, dst: bytes, from_left: bool, to_left: bool):
    value = lst.move(ctx.db, src, dst, from_left, to_left)
    if value is not None:
        _key_ready(ctx.db, dst)
    return value


@command("lmove", arity=5, flags="write denyoom", keys=(1, 2, 1), group="list",
         summary="Pop an element from a list, push it to another list and return it",
         since="6.2.0", acl="@write @list @slow")
def cmd_lmove(ctx, argv):
    from_left = _side(argv[3])
    to_left = _side(argv[4])
    return _move(ctx, argv[1], argv[2], from_left, to_left)


@command("rpoplpush", arity=3, flags="write denyoom", keys=(1, 2, 1), group="list",
         summary="Remove the last element in a list, prepend it to another list and return it",
         since="1.2.0", acl="@write @list @slow")
def cmd_rpoplpush(ctx, argv):
    return _move(ctx, argv[1], argv[2], False, True)


_SIDES = {b"LEFT": True, b"RIGHT": False}


def _parse_mpop(argv: list[bytes], numkeys_at: int) -> tuple[list[bytes], bool, int]:
    """``numkeys key [key ...] LEFT|RIGHT [COUNT count]`` -> (keys, left, count)."""
    return parse_mpop(argv, numkeys_at, _SIDES)


def _ready_first(keys: list[bytes]) -> list[bytes]:
    """Keys in argument order, except that a retry after a key became ready tries that key
    first (Redis 7.0 serves a client blocked on several keys from the key that got data)."""
    key = blocking.serving_key()
    if key is None or len(keys) == 1 or key not in keys:
        return keys
    return [key, *keys]


def _mpop(db, keys: list[bytes], left: bool, count: int):
    for key in _ready_first(keys):
        meta = lst.get(db, key)
        if meta is not None:
            return [key, lst.pop_from(db, key, meta, left, count)]
    return NOT_READY


@command("lmpop", arity=-4, flags="write movablekeys", keys=(0, 0, 0), group="list",
         summary="Pop elements from a list", since="7.0.0", acl="@write @list @slow")
def cmd_lmpop(ctx, argv):
    keys, left, count = _parse_mpop(argv, 1)
    result = _mpop(ctx.db, keys, left, count)
    return NullArray if result is NOT_READY else result


# --- blocking ------------------------------------------------------------------------------
def _bpop(ctx, argv, left: bool):
    timeout = parse_timeout(argv[-1])
    keys = argv[1:-1]

    def attempt():
        db = ctx.db
        for key in _ready_first(keys):
            meta = lst.get(db, key)
            if meta is not None:
                return [key, lst.pop_from(db, key, meta, left, 1)[0]]
        return NOT_READY

    return blocking.block(ctx, keys, timeout, attempt)


@command("blpop", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list",
         summary="Remove and get the first element in a list, or block until one is available",
         since="2.0.0", acl="@write @list @slow @blocking")
def cmd_blpop(ctx, argv):
    return _bpop(ctx, argv, True)


@command("brpop", arity=-3, flags="write noscript blocking", keys=(1, -2, 1), group="list",
         summary="Remove and get the last element in a list, or block until one is available",
         since="2.0.0", acl="@write @list @slow @blocking")
def cmd_brpop(ctx, argv):
    return _bpop(ctx, argv, False)


def _bmove(ctx, src: bytes, dst: bytes, from_left: bool, to_left: bool, timeout: float):
    def attempt():
        value = lst.move(ctx.db, src, dst, from_left, to_left)
        if value is None:
            return NOT_READY
        _key_ready(ctx.db, dst)
        return value

    if _cannot_block(ctx):
        result = attempt()
        return None if result is NOT_READY else result
    return blocking.block(ctx, [src], timeout, attempt)


@command("blmove", arity=6, flags="write denyoom noscript blocking", keys=(1, 2, 1),
         group="list", summary="Pop an element from a list, push it to another list and "
         "return it; or block until one is available", since="6.2.0",
         acl="@write @list @slow @blocking")
def cmd_blmove(ctx, argv):
    from_left = _side(argv[3])
    to_left = _side(argv[4])
    timeout = parse_timeout(argv[5])
    return _bmove(ctx, argv[1], argv[2], from_left, to_left, timeout)


@command("brpoplpush", arity=4, flags="write denyoom noscript blocking", keys=(1, 2, 1),
         group="list", summary="Pop an element from a list, push it to another list and "
         "return it; or block until one is available", since="2.2.0",
         acl="@write @list @slow @blocking")
def cmd_brpoplpush(ctx, argv):
    timeout = parse_timeout(argv[3])
    return _bmove(ctx, argv[1], argv[2], False, True, timeout)


@command("blmpop", arity=-5, flags="write blocking movablekeys", keys=(0, 0, 0), group="list",
         summary="Pop elements from a list, or block until one is available", since="7.0.0",
         acl="@write @list @slow @blocking")
def cmd_blmpop(ctx, argv):
    keys, left, count = _parse_mpop(argv, 2)
    timeout = parse_timeout(argv[1])  # after the keys and options, as Redis reads them
    return blocking.block(ctx, keys, timeout, lambda: _mpop(ctx.db, keys, left, count))


# --- LedisDB extras ------------------------------------------------------------------------
@command("lclear", arity=2, flags="write", keys=(1, 1, 1), group="list",
         summary="Delete a list (LedisDB); returns the number of elements it had",
         acl="@write @list @slow")
def cmd_lclear(ctx, argv):
    return lst.clear(ctx.db, argv[1])


@command("lmclear", arity=-2, flags="write", keys=(1, -1, 1), group="list",
         summary="Delete several lists (LedisDB); returns the number of keys given",
         acl="@write @list @slow")
def cmd_lmclear(ctx, argv):
    db = ctx.db
    keys = argv[1:]
    for key in keys:  # type-check all first: the command fails whole
        lst.get(db, key)
    for key in keys:
        lst.clear(db, key)
    return len(keys)


# --- CLIENT UNBLOCK ------------------------------------------------------------------------
@command("client|unblock", arity=-3, flags="admin noscript loading stale", group="connection",
         summary="Unblock a client blocked in a blocking command from a different connection",
         since="5.0.0", acl="@admin @slow @dangerous @connection")
def cmd_client_unblock(ctx, argv):
    client_id = parse_int(argv[2])
    as_error = False
    if len(argv) == 4:
        reason = argv[3].upper()
        if reason == b"ERROR":
            as_error = True
        elif reason != b"TIMEOUT":
            raise LedisError(errors.CLIENT_UNBLOCK_REASON)
    elif len(argv) > 4:
        raise error(errors.SYNTAX)
    return int(blocking.unblock(client_id, as_error))
