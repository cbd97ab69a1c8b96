"""Stream consumer groups (XGROUP CREATE / SETID / DESTROY / CREATECONSUMER / DELCONSUMER,
XACK, XPENDING, XCLAIM, XAUTOCLAIM) and XINFO STREAM / GROUPS / CONSUMERS, Redis 7.0.

The other stream commands, the ID parsing and the reply shapes these share are in
:mod:`ledis.commands.streams` (its module docstring explains them); XREADGROUP lives there
with XREAD, since both read through the blocking machinery. Storage:
``ledis.storage.types.stream``.
"""

from __future__ import annotations

from typing import Any

from ledis import errors
from ledis.commands.args import ArgCursor
from ledis.commands.registry import command
from ledis.commands.streams import (
    SYNTAX,
    _entries,
    _entry,
    _int,
    _notify,
    _range_bounds,
    _text,
    _touch,
    parse_id,
    parse_interval,
)
from ledis.errors import LedisError
from ledis.pubsub import NEW
from ledis.replies import OK, Map, NullArray, Simple
from ledis.storage.types import stream as st
from ledis.storage.types.stream import MAX_ID, ZERO_ID, StreamID, format_id

# --- XGROUP ----------------------------------------------------------------------------------
_XGROUP_HELP = [
    b"XGROUP <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CREATE <key> <groupname> <id|$> [option]",
    b"    Create a new consumer group. Options are:",
    b"    * MKSTREAM",
    b"      Create the empty stream if it does not exist.",
    b"    * ENTRIESREAD entries_read",
    b"      Set the group's entries_read counter (internal use).",
    b"CREATECONSUMER <key> <groupname> <consumer>",
    b"    Create a new consumer in the specified group.",
    b"DELCONSUMER <key> <groupname> <consumer>",
    b"    Remove the specified consumer.",
    b"DESTROY <key> <groupname>",
    b"    Remove the specified group.",
    b"SETID <key> <groupname> <id|$> [ENTRIESREAD entries_read]",
    b"    Set the current group ID and entries_read counter.",
    b"HELP",
    b"    Prints this help.",
]


def _xgroup_options(argv: list[bytes], mkstream_allowed: bool) -> tuple[bool, int]:
    """CREATE / SETID options after the ID: ``(mkstream, entries_read)``."""
    mkstream = False
    entries_read = st.UNKNOWN
    args = ArgCursor(argv, 5)
    while args:
        word = args.word()
        if mkstream_allowed and word == b"MKSTREAM":
            mkstream = True
        elif word == b"ENTRIESREAD" and args:
            entries_read = _int(args.take())
            if entries_read < 0 and entries_read != st.UNKNOWN:
                raise LedisError(errors.XGROUP_ENTRIES_READ)
        else:
            raise LedisError(errors.XGROUP_SYNTAX.format(_text(argv[1])))
    return mkstream, entries_read


def _xgroup_arity(argv: list[bytes], *counts: int) -> None:
    """The argument count a subcommand takes, checked as Redis's xgroupCommand does: after
    the options and the key and group lookups (their errors come first)."""
    if len(argv) not in counts:
        raise LedisError(errors.XGROUP_SYNTAX.format(_text(argv[1])))


def _xgroup_target(ctx, argv, needs_group: bool, mkstream: bool = False
                   ) -> tuple[bytes | None, st.Stream | None, st.Group | None]:
    phys, stream = st.load(ctx.db, argv[2])
    if stream is None and not mkstream:
        raise LedisError(errors.XGROUP_NEEDS_KEY)
    group = None if stream is None else stream.group(ctx.db, argv[3])
    if needs_group and group is None:
        raise LedisError(errors.XGROUP_NOGROUP.format(_text(argv[3]), _text(argv[2])))
    return phys, stream, group


@command("xgroup|create", arity=-5, flags="write denyoom", keys=(2, 2, 1), group="stream",
         summary="Create a consumer group.", since="5.0.0", complexity="O(1)",
         acl="@write @stream @slow")
def cmd_xgroup_create(ctx, argv):
    mkstream, entries_read = _xgroup_options(argv, True)
    db = ctx.db
    phys, stream, group = _xgroup_target(ctx, argv, False, mkstream)
    _xgroup_arity(argv, 5, 6, 7, 8)
    if argv[4] == b"$":
        sid = ZERO_ID if stream is None else stream.last
    else:
        sid = parse_id(argv[4])[0]
    if group is not None:
        raise LedisError(errors.XGROUP_BUSYGROUP)
    if stream is None:
        stream = st.create(db, argv[2], phys)
        _notify(ctx, b"new", argv[2], NEW)
    group = st.Group(stream, argv[3])
    group.last = sid
    group.entries_read = entries_read
    group.save(db)
    _notify(ctx, b"xgroup-create", argv[2])
    return OK


@command("xgroup|setid", arity=-5, flags="write", keys=(2, 2, 1), group="stream",
         summary="Set a consumer group to an arbitrary last delivered ID value.",
         since="5.0.0", complexity="O(1)", acl="@write @stream @slow")
def cmd_xgroup_setid(ctx, argv):
    _, entries_read = _xgroup_options(argv, False)
    _, stream, group = _xgroup_target(ctx, argv, True)
    _xgroup_arity(argv, 5, 7)
    assert stream is not None and group is not None
    if argv[4] == b"$":
        sid = stream.last
    else:
        sid = parse_id(argv[4], strict=False)[0]
    group.last = sid
    group.entries_read = entries_read
    group.save(ctx.db)
    _notify(ctx, b"xgroup-setid", argv[2])
    return OK


@command("xgroup|destroy", arity=4, flags="write", keys=(2, 2, 1), group="stream",
         summary="Destroy a consumer group.", since="5.0.0",
         complexity="O(N) where N is the number of entries in the group's pending entries "
         "list (PEL).", acl="@write @stream @slow")
def cmd_xgroup_destroy(ctx, argv):
    _, stream, group = _xgroup_target(ctx, argv, False)
    if group is None:
        return 0
    group.destroy(ctx.db)
    _notify(ctx, b"xgroup-destroy", argv[2])
    return 1


@command("xgroup|createconsumer", arity=5, flags="write denyoom", keys=(2, 2, 1),
         group="stream", summary="Create a consumer in a consumer group.", since="6.2.0",
         complexity="O(1)", acl="@write @stream @slow")
def cmd_xgroup_createconsumer(ctx, argv):
    _, stream, group = _xgroup_target(ctx, argv, True)
    assert group is not None
    if group.consumer(ctx.db, argv[4]) is not None:
        return 0
    group.save_consumer(ctx.db, argv[4], st.now_ms(), 0)
    _notify(ctx, b"xgroup-createconsumer", argv[2])
    return 1


@command("xgroup|delconsumer", arity=5, flags="write", keys=(2, 2, 1), group="stream",
         summary="Delete a consumer from a consumer group.", since="5.0.0",
         complexity="O(1)", acl="@write @stream @slow")
def cmd_xgroup_delconsumer(ctx, argv):
    _, stream, group = _xgroup_target(ctx, argv, True)
    assert group is not None
    if group.consumer(ctx.db, argv[4]) is None:
        return 0  # no such consumer: nothing deleted, no event (as Redis)
    pending = group.delete_consumer(ctx.db, argv[4])
    _notify(ctx, b"xgroup-delconsumer", argv[2])
    return pending


@command("xgroup|help", arity=2, flags="loading stale", group="stream",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         complexity="O(1)", acl="@stream @slow")
def cmd_xgroup_help(ctx, argv):
    return [Simple(line) for line in _XGROUP_HELP]


# --- XACK / XPENDING / XCLAIM / XAUTOCLAIM ---------------------------------------------------
def _group_or_none(ctx, key: bytes, name: bytes) -> tuple[st.Stream | None, st.Group | None]:
    stream = st.read(ctx.db, key)
    return stream, (None if stream is None else stream.group(ctx.db, name))


@command("xack", arity=-4, flags="write fast", keys=(1, 1, 1), group="stream",
         summary="Marks a pending message as correctly processed, effectively removing it "
         "from the pending entries list of the consumer group. Return value of the command "
         "is the number of messages successfully acknowledged, that is, the IDs we were "
         "actually able to resolve in the PEL.", since="5.0.0",
         complexity="O(1) for each message ID processed.", acl="@write @stream @fast")
def cmd_xack(ctx, argv):
    _, group = _group_or_none(ctx, argv[1], argv[2])
    if group is None:
        return 0
    ids = [parse_id(raw)[0] for raw in argv[3:]]
    done = sum(group.acknowledge(ctx.db, sid) for sid in ids)
    if done:
        group.save(ctx.db)
    return done


@command("xpending", arity=-3, flags="readonly", keys=(1, 1, 1), group="stream",
         summary="Return information and entries from a stream consumer group pending "
         "entries list, that are messages fetched but never acknowledged.", since="5.0.0",
         complexity="O(N) with N being the number of elements returned, so asking for a "
         "small fixed number of entries per call is O(1). O(M), where M is the total number "
         "of entries scanned when used with the IDLE filter. When the command returns just "
         "the summary and the list of consumers is small, it runs in O(1) time; otherwise, "
         "an additional O(N) time for iterating every consumer.",
         acl="@read @stream @slow")
def cmd_xpending(ctx, argv):
    n = len(argv)
    if n != 3 and not 6 <= n <= 9:
        raise SYNTAX
    min_idle = 0
    consumer = None
    if n >= 6:
        at = 3
        if argv[3].upper() == b"IDLE":
            min_idle = _int(argv[4])
            if n < 8:
                raise SYNTAX
            at = 5
        count = max(_int(argv[at + 2]), 0)
        start, end = _range_bounds(argv[at], argv[at + 1])
        if at + 3 < n:
            consumer = argv[at + 3]
    db = ctx.db
    _, group = _group_or_none(ctx, argv[1], argv[2])
    if group is None:
        raise LedisError(errors.STREAM_NOGROUP.format(_text(argv[1]), _text(argv[2])))
    if n == 3:
        if not group.pel_count:
            return [0, None, None, NullArray]
        first = next(group.pending(db))[0]
        last = group.last_pending(db)
        assert last is not None
        owners = [[name, b"%d" % pel] for name, _, pel in group.consumers(db) if pel]
        return [group.pel_count, format_id(first), format_id(last), owners]
    if consumer is not None and group.consumer(db, consumer) is None:
        return []
    now = st.now_ms()
    out = []
    if consumer is not None:
        rows: Any = ((sid, *(group.nack(db, sid) or (now, 0, consumer)))
                     for sid in group.consumer_pending(db, consumer, start, end))
    else:
        rows = group.pending(db, start, end)
    for sid, delivered, deliveries, owner in rows:
        if not count:
            break
        idle = now - delivered
        if min_idle and idle < min_idle:
            continue
        out.append([format_id(sid), owner, max(idle, 0), deliveries])
        count -= 1
    return out


def _claim(db, stream, group, sid, owner, name, delivery, deliveries, justid):
    """Give pending entry ``sid`` to consumer ``name`` (XCLAIM, XAUTOCLAIM); its reply item:
    the ID (JUSTID), the entry, or nil for an entry deleted meanwhile."""
    group.move_pending(db, sid, owner, name, delivery, deliveries)
    if justid:
        return format_id(sid)
    fields = stream.get(db, sid)
    return None if fields is None else _entry(sid, fields)


@command("xclaim", arity=-6, flags="write fast", keys=(1, 1, 1), group="stream",
         summary="Changes (or acquires) ownership of a message in a consumer group, as if "
         "the message was delivered to the specified consumer.", since="5.0.0",
         complexity="O(log N) with N being the number of messages in the PEL of the "
         "consumer group.", acl="@write @stream @fast")
def cmd_xclaim(ctx, argv):
    db = ctx.db
    stream, group = _group_or_none(ctx, argv[1], argv[2])
    if stream is None or group is None:
        raise LedisError(errors.STREAM_NOGROUP.format(_text(argv[1]), _text(argv[2])))
    min_idle = max(_int(argv[4], errors.XCLAIM_MIN_IDLE), 0)
    ids: list[StreamID] = []
    j = 5
    while j < len(argv):
        try:
            ids.append(parse_id(argv[j])[0])
        except LedisError:
            break
        j += 1
    now = st.now_ms()
    delivery: int | None = None
    retry = -1
    force = justid = False
    last_id = ZERO_ID
    args = ArgCursor(argv, j)
    while args:
        raw = args.take()
        word = raw.upper()
        if word == b"FORCE":
            force = True
        elif word == b"JUSTID":
            justid = True
        elif word == b"IDLE" and args:
            delivery = now - _int(args.take(), errors.XCLAIM_IDLE)
        elif word == b"TIME" and args:
            delivery = _int(args.take(), errors.XCLAIM_TIME)
        elif word == b"RETRYCOUNT" and args:
            retry = _int(args.take(), errors.XCLAIM_RETRYCOUNT)
        elif word == b"LASTID" and args:
            last_id = parse_id(args.take())[0]
        else:
            raise LedisError(errors.XCLAIM_OPTION.format(_text(raw)))
    if last_id > group.last:
        group.last = last_id
    if delivery is None or delivery < 0 or delivery > now:
        delivery = now
    name = argv[3]
    out: list = []
    touched = False
    for sid in ids:
        nack = group.nack(db, sid)
        if not stream.exists(db, sid):
            if nack is not None:
                group.acknowledge(db, sid)
            continue
        if nack is None and not force:
            continue
        owner = None if nack is None else nack[2]
        if nack is not None and min_idle and now - nack[0] < min_idle:
            continue
        if not touched:
            _touch(ctx, group, argv[1], name, now)
            touched = True
        deliveries = 1 if nack is None else nack[1]
        if retry >= 0:
            deliveries = retry
        elif not justid:
            deliveries += 1
        out.append(_claim(db, stream, group, sid, owner, name, delivery, deliveries, justid))
    group.save(db)
    return out


@command("xautoclaim", arity=-6, flags="write fast", keys=(1, 1, 1), group="stream",
         summary="Changes (or acquires) ownership of messages in a consumer group, as if the "
         "messages were delivered to the specified consumer.", since="6.2.0",
         complexity="O(1) if COUNT is small.", acl="@write @stream @fast")
def cmd_xautoclaim(ctx, argv):
    ctx.db.read(argv[1])  # as Redis: the key's read lookup (counted) before the arguments
    min_idle = max(_int(argv[4], errors.XAUTOCLAIM_MIN_IDLE), 0)
    start, exclusive = parse_interval(argv[5], 0)
    if exclusive:
        after = st.next_id(start)
        if after is None:
            raise LedisError(errors.STREAM_START_INVALID)
        start = after
    count = 100
    justid = False
    args = ArgCursor(argv, 6)
    while args:
        word = args.word()
        if word == b"COUNT" and args:
            count = _int(args.take(), errors.XAUTOCLAIM_COUNT)
            if not 1 <= count <= (2**63 - 1) // 16:
                raise LedisError(errors.XAUTOCLAIM_COUNT)
        elif word == b"JUSTID":
            justid = True
        else:
            raise SYNTAX
    db = ctx.db
    stream = st.load(db, argv[1])[1]  # WRONGTYPE after the arguments
    group = None if stream is None else stream.group(db, argv[2])
    if stream is None or group is None:
        raise LedisError(errors.STREAM_NOGROUP.format(_text(argv[1]), _text(argv[2])))
    attempts = count * 10
    now = st.now_ms()
    name = argv[3]
    claimed: list = []
    deleted: list[bytes] = []
    cursor = ZERO_ID
    pending = group.pending(db, start)
    rows = []
    # Collect first: the loop below rewrites the PEL it walks.
    for row in pending:
        if len(rows) > attempts:
            break
        rows.append(row)
    touched = False
    i = 0
    while attempts and count and i < len(rows):
        attempts -= 1
        sid, delivered, deliveries, owner = rows[i]
        i += 1
        if not stream.exists(db, sid):
            group.acknowledge(db, sid)
            deleted.append(format_id(sid))
            count -= 1
            continue
        if min_idle and now - delivered < min_idle:
            continue
        if not touched:
            _touch(ctx, group, argv[1], name, now)
            touched = True
        if not justid:
            deliveries += 1
        claimed.append(_claim(db, stream, group, sid, owner, name, now, deliveries, justid))
        count -= 1
    if i < len(rows):
        cursor = rows[i][0]
    group.save(db)
    return [format_id(cursor), claimed, deleted]


# --- XINFO -----------------------------------------------------------------------------
_XINFO_HELP = [
    b"XINFO <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CONSUMERS <key> <groupname>",
    b"    Show consumers of <groupname>.",
    b"GROUPS <key>",
    b"    Show the stream consumer groups.",
    b"STREAM <key> [FULL [COUNT <count>]",
    b"    Show information about the stream.",
    b"HELP",
    b"    Prints this help.",
]


def _info_stream(ctx, key: bytes) -> st.Stream:
    stream = st.read(ctx.db, key)
    if stream is None:
        raise LedisError(errors.NO_SUCH_KEY)
    return stream


def _radix_keys(stream: st.Stream) -> int:
    return -(-stream.length // st.NODE_ENTRIES)


@command("xinfo|stream", arity=-3, flags="readonly", keys=(2, 2, 1), group="stream",
         summary="Get information about a stream", since="5.0.0", complexity="O(1)",
         acl="@read @stream @slow")
def cmd_xinfo_stream(ctx, argv):
    stream = _info_stream(ctx, argv[2])  # as Redis: the key first, then the options
    full = False
    count = 10
    rest = argv[3:]
    if rest:
        if rest[0].upper() != b"FULL":
            raise LedisError(errors.XINFO_SYNTAX.format(_text(argv[1])))
        full = True
        if len(rest) == 3 and rest[1].upper() == b"COUNT":
            count = max(_int(rest[2]), 0)
        elif len(rest) != 1:
            raise LedisError(errors.XINFO_SYNTAX.format(_text(argv[1])))
    db = ctx.db
    keys = _radix_keys(stream)
    info: Map = Map()
    info[b"length"] = stream.length
    info[b"radix-tree-keys"] = keys
    info[b"radix-tree-nodes"] = keys + 1
    info[b"last-generated-id"] = format_id(stream.last)
    info[b"max-deleted-entry-id"] = format_id(stream.max_deleted)
    info[b"entries-added"] = stream.added
    info[b"recorded-first-entry-id"] = format_id(stream.first_id(db))
    if not full:
        info[b"groups"] = stream.group_count(db)
        first = stream.entries(db, ZERO_ID, MAX_ID, 1)
        last = stream.entries(db, ZERO_ID, MAX_ID, 1, True)
        info[b"first-entry"] = _entries(first)[0] if first else None
        info[b"last-entry"] = _entries(last)[0] if last else None
        return info
    info[b"entries"] = _entries(stream.entries(db, ZERO_ID, MAX_ID, count))
    groups = []
    for group in stream.groups(db):
        entry: Map = Map()
        entry[b"name"] = group.name
        entry[b"last-delivered-id"] = format_id(group.last)
        entry[b"entries-read"] = None if group.entries_read == st.UNKNOWN else group.entries_read
        entry[b"lag"] = stream.lag(db, group)
        entry[b"pel-count"] = group.pel_count
        pending = []
        for sid, delivered, deliveries, owner in group.pending(db):
            if count and len(pending) >= count:
                break
            pending.append([format_id(sid), owner, delivered, deliveries])
        entry[b"pending"] = pending
        consumers = []
        for name, seen, pel in group.consumers(db):
            item: Map = Map()
            item[b"name"] = name
            item[b"seen-time"] = seen
            item[b"pel-count"] = pel
            own = []
            for sid in group.consumer_pending(db, name):
                if count and len(own) >= count:
                    break
                nack = group.nack(db, sid)
                if nack is not None:
                    own.append([format_id(sid), nack[0], nack[1]])
            item[b"pending"] = own
            consumers.append(item)
        entry[b"consumers"] = consumers
        groups.append(entry)
    info[b"groups"] = groups
    return info


@command("xinfo|groups", arity=3, flags="readonly", keys=(2, 2, 1), group="stream",
         summary="List the consumer groups of a stream", since="5.0.0", complexity="O(1)",
         acl="@read @stream @slow")
def cmd_xinfo_groups(ctx, argv):
    db = ctx.db
    stream = _info_stream(ctx, argv[2])
    out = []
    for group in stream.groups(db):
        info: Map = Map()
        info[b"name"] = group.name
        info[b"consumers"] = len(group.consumers(db))
        info[b"pending"] = group.pel_count
        info[b"last-delivered-id"] = format_id(group.last)
        info[b"entries-read"] = None if group.entries_read == st.UNKNOWN else group.entries_read
        info[b"lag"] = stream.lag(db, group)
        out.append(info)
    return out


@command("xinfo|consumers", arity=4, flags="readonly", keys=(2, 2, 1), group="stream",
         summary="List the consumers in a consumer group", since="5.0.0", complexity="O(1)",
         acl="@read @stream @slow")
def cmd_xinfo_consumers(ctx, argv):
    db = ctx.db
    stream = _info_stream(ctx, argv[2])
    group = stream.group(db, argv[3])
    if group is None:
        raise LedisError(errors.XGROUP_NOGROUP.format(_text(argv[3]), _text(argv[2])))
    now = st.now_ms()
    out = []
    for name, seen, pel in group.consumers(db):
        info: Map = Map()
        info[b"name"] = name
        info[b"pending"] = pel
        info[b"idle"] = max(now - seen, 0)
        out.append(info)
    return out


@command("xinfo|help", arity=2, flags="loading stale", group="stream",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         complexity="O(1)", acl="@stream @slow")
def cmd_xinfo_help(ctx, argv):
    return [Simple(line) for line in _XINFO_HELP]
