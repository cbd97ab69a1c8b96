"""Stream commands (Redis 7.0): XADD, XLEN, XRANGE / XREVRANGE, XDEL, XTRIM, XREAD, consumer
groups (XGROUP, XREADGROUP, XACK, XPENDING, XCLAIM, XAUTOCLAIM), XINFO and XSETID.

Arguments are parsed first, in the order Redis parses them (so the same bad command gets
the same error), then ``ledis.storage.types.stream`` does the work. IDs are parsed as
Redis's ``streamGenericParseIDOrReply``: ``ms-seq`` with both parts unsigned 64-bit (read by
``string2ull``, which also takes what ``strtoull`` takes), ``ms`` alone meaning the first or
last sequence, ``-`` / ``+`` where a range is allowed, ``(`` for an exclusive range bound.

XADD calls ``blocking.key_ready`` so clients blocked in XREAD / XREADGROUP are retried after
the current command, script or transaction; inside MULTI or a script BLOCK answers at once
(a null array), as Redis does.

Reply shapes: an entry is ``[id, [field, value, ...]]``; XREAD / XREADGROUP answer an array
of ``[key, entries]`` pairs in RESP2 and a map in RESP3, and a null array when nothing is
served; XINFO answers maps.
"""

from __future__ import annotations

from itertools import islice
from typing import Any

from ledis import blocking, errors, pubsub
from ledis.blocking import NOT_READY
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Map, NullArray, PairList, Raw, Simple
from ledis.storage.types import stream as st
from ledis.storage.types.stream import MAX64, MAX_ID, ZERO_ID, StreamID, format_id

_key_ready = blocking.key_ready
SYNTAX = LedisError(errors.SYNTAX)
INVALID_ID = LedisError(errors.STREAM_ID_INVALID)
XREAD_BLOCKED_DEFAULT_COUNT = 1000


# --- argument parsing ------------------------------------------------------------------------
def _ull(text: bytes) -> int | None:
    """Redis's ``string2ull``: ``string2ll`` (non-negative), else ``strtoull`` over the whole
    text (leading blanks and a sign allowed, '-' wraps around)."""
    try:
        value = parse_int(text)
        return value if value >= 0 else None
    except LedisError:
        pass
    s = text.lstrip(b" \t\n\r\f\v")
    negative = s[:1] == b"-"
    if s[:1] in (b"+", b"-"):
        s = s[1:]
    if not s or not s.isdigit():
        return None
    value = int(s)
    if value > MAX64:
        return None
    return (-value) % (MAX64 + 1) if negative else value


def parse_id(raw: bytes, missing_seq: int = 0, strict: bool = True,
             star: bool = False) -> tuple[StreamID, bool]:
    """One stream ID; returns ``(id, seq_given)`` (``seq_given`` False only for ``ms-*``
    when ``star``)."""
    text = raw.split(b"\0", 1)[0]  # a C string ends at NUL
    if len(raw) > 127:
        raise INVALID_ID
    if text in (b"-", b"+"):
        if strict:
            raise INVALID_ID
        return (ZERO_ID if text == b"-" else MAX_ID), True
    ms_text, dash, seq_text = text.partition(b"-")
    ms = _ull(ms_text)
    if ms is None:
        raise INVALID_ID
    if not dash:
        return (ms, missing_seq), True
    if star and seq_text == b"*":
        return (ms, 0), False
    seq = _ull(seq_text)
    if seq is None:
        raise INVALID_ID
    return (ms, seq), True


def parse_interval(raw: bytes, missing_seq: int) -> tuple[StreamID, bool]:
    """A range bound: ``(id`` is exclusive; returns ``(id, exclusive)``."""
    if len(raw) > 1 and raw[:1] == b"(":
        return parse_id(raw[1:], missing_seq, strict=True)[0], True
    return parse_id(raw, missing_seq, strict=False)[0], False


def _range_bounds(raw_start: bytes, raw_end: bytes) -> tuple[StreamID, StreamID]:
    start, start_ex = parse_interval(raw_start, 0)
    if start_ex:
        after = st.next_id(start)
        if after is None:
            raise LedisError(errors.STREAM_START_INVALID)
        start = after
    end, end_ex = parse_interval(raw_end, MAX64)
    if end_ex:
        before = st.previous_id(end)
        if before is None:
            raise LedisError(errors.STREAM_END_INVALID)
        end = before
    return start, end


def _notify(ctx, event: bytes, key: bytes) -> None:
    """A keyspace event of class ``t`` (Redis's NOTIFY_STREAM), published at once as Redis
    does from inside the command (the generic after-the-fact events of
    ``ledis.pubsub.notify_write`` cannot tell an XADD that trimmed from one that did not)."""
    core = ctx.core
    if not core.notify_writes:
        return
    flags = pubsub.notify_flags(core)
    if flags:
        pubsub.notify(core, flags, pubsub.STREAM_CLASS, event, key, ctx.db.logical)


def _touch(ctx, group: st.Group, key: bytes, consumer: bytes, now: int) -> None:
    """A command acting for ``consumer``: create it if needed (notifying as Redis's
    streamCreateConsumer does), refresh its seen-time."""
    created, _ = group.touch_consumer(ctx.db, consumer, now)
    if created:
        _notify(ctx, b"xgroup-createconsumer", key)


def _int(raw: bytes, message: str = errors.NOT_INTEGER) -> int:
    return parse_int(raw, message)


def _entry(sid: StreamID, fields: bytes | None) -> list:
    """``[id, [field, value ...]]``; the fields come encoded from storage (``Raw``)."""
    return [format_id(sid), NullArray if fields is None else Raw(fields)]


def _entries(items: list[st.Entry]) -> list:
    return [[b"%d-%d" % sid, Raw(fields)] for sid, fields in items]


class TrimArgs:
    """The trimming options XADD and XTRIM share (streamParseAddOrTrimArgsOrReply)."""

    __slots__ = ("maxlen", "minid", "approx", "limit", "nomkstream", "sid", "seq_given",
                 "next")

    def __init__(self) -> None:
        self.maxlen: int | None = None
        self.minid: StreamID | None = None
        self.approx = False
        self.limit = 0
        self.nomkstream = False
        self.sid: StreamID | None = None
        self.seq_given = True
        self.next = 0

    @property
    def trims(self) -> bool:
        return self.maxlen is not None or self.minid is not None


def _parse_trim(argv: list[bytes], xadd: bool) -> TrimArgs:
    args = TrimArgs()
    i = 2
    limit_given = False
    n = len(argv)
    while i < n:
        more = n - 1 - i
        opt = argv[i]
        word = opt.upper()
        if xadd and opt == b"*":
            break
        if word in (b"MAXLEN", b"MINID") and more:
            if args.trims:
                raise LedisError(errors.XTRIM_BOTH)
            args.approx = False
            nxt = argv[i + 1]
            if more >= 2 and nxt in (b"~", b"="):
                args.approx = nxt == b"~"
                i += 1
            if word == b"MAXLEN":
                args.maxlen = _int(argv[i + 1])
                if args.maxlen < 0:
                    raise LedisError(errors.XTRIM_MAXLEN_NEGATIVE)
            else:
                args.minid = parse_id(argv[i + 1])[0]
            i += 1
        elif word == b"LIMIT" and more:
            args.limit = _int(argv[i + 1])
            if args.limit < 0:
                raise LedisError(errors.XTRIM_LIMIT_NEGATIVE)
            limit_given = True
            i += 1
        elif xadd and word == b"NOMKSTREAM":
            args.nomkstream = True
        elif xadd:
            args.sid, args.seq_given = parse_id(opt, star=True)
            break
        else:
            raise SYNTAX
        i += 1
    if args.limit and not args.trims:
        raise LedisError(errors.XTRIM_LIMIT_NO_STRATEGY)
    if not xadd and not args.trims:
        raise LedisError(errors.XTRIM_NO_STRATEGY)
    if limit_given:
        if not args.approx:
            raise LedisError(errors.XTRIM_LIMIT_NOT_APPROX)
    elif args.approx:
        args.limit = st.APPROX_LIMIT
    else:
        args.limit = 0
    args.next = i
    return args


# --- XADD / XLEN / XRANGE / XDEL / XTRIM -------------------------------------------------------
@command("xadd", arity=-5, flags="write denyoom fast", keys=(1, 1, 1), group="stream",
         summary="Appends a new entry to a stream", since="5.0.0",
         complexity="O(1) when adding a new entry, O(N) when trimming where N being the number "
         "of entries evicted.", acl="@write @stream @fast")
def cmd_xadd(ctx, argv):
    args = _parse_trim(argv, True)
    field_pos = args.next + 1
    count = len(argv) - field_pos
    if count < 2 or count % 2:
        raise LedisError(errors.WRONG_ARITY.format("xadd"))
    if args.sid == ZERO_ID and args.seq_given:
        raise LedisError(errors.XADD_ID_ZERO)
    db = ctx.db
    key = argv[1]
    added = st.add(db, key, argv[field_pos:], args.sid, args.seq_given, args.nomkstream)
    if added is None:
        return None
    stream, sid = added
    _notify(ctx, b"xadd", key)
    if args.trims and st.trim(db, stream, args.maxlen, args.minid, args.approx, args.limit):
        _notify(ctx, b"xtrim", key)
    stream.save(db)
    _key_ready(db, key)
    return format_id(sid)


@command("xlen", arity=2, flags="readonly fast", keys=(1, 1, 1), group="stream",
         summary="Return the number of entries in a stream", since="5.0.0",
         complexity="O(1)", acl="@read @stream @fast")
def cmd_xlen(ctx, argv):
    stream = st.read(ctx.db, argv[1])
    return 0 if stream is None else stream.length


def _range(ctx, argv, reverse: bool):
    if reverse:
        start, end = _range_bounds(argv[3], argv[2])
    else:
        start, end = _range_bounds(argv[2], argv[3])
    count = -1
    i = 4
    while i < len(argv):
        if argv[i].upper() == b"COUNT" and i + 1 < len(argv):
            count = max(_int(argv[i + 1]), 0)
            i += 2
        else:
            raise SYNTAX
    stream = st.read(ctx.db, argv[1])
    if stream is None:
        return []
    if count == 0:
        return NullArray
    return _entries(stream.entries(ctx.db, start, end, max(count, 0), reverse))


@command("xrange", arity=-4, flags="readonly", keys=(1, 1, 1), group="stream",
         summary="Return a range of elements in a stream, with IDs matching the specified IDs "
         "interval", since="5.0.0",
         complexity="O(N) with N being the number of elements being returned. If N is "
         "constant (e.g. always asking for the first 10 elements with COUNT), you can "
         "consider it O(1).", acl="@read @stream @slow")
def cmd_xrange(ctx, argv):
    return _range(ctx, argv, False)


@command("xrevrange", arity=-4, flags="readonly", keys=(1, 1, 1), group="stream",
         summary="Return a range of elements in a stream, with IDs matching the specified IDs "
         "interval, in reverse order (from greater to smaller IDs) compared to XRANGE",
         since="5.0.0",
         complexity="O(N) with N being the number of elements returned. If N is constant "
         "(e.g. always asking for the first 10 elements with COUNT), you can consider it "
         "O(1).", acl="@read @stream @slow")
def cmd_xrevrange(ctx, argv):
    return _range(ctx, argv, True)


@command("xdel", arity=-3, flags="write fast", keys=(1, 1, 1), group="stream",
         summary="Removes the specified entries from the stream. Returns the number of items "
         "actually deleted, that may be different from the number of IDs passed in case "
         "certain IDs do not exist.", since="5.0.0",
         complexity="O(1) for each single item to delete in the stream, regardless of the "
         "stream size.", acl="@write @stream @fast")
def cmd_xdel(ctx, argv):
    db = ctx.db
    _, stream = st.load(db, argv[1])
    if stream is None:
        return 0
    ids = [parse_id(raw)[0] for raw in argv[2:]]
    removed = st.delete(db, stream, ids)
    stream.save(db)
    if removed:
        _notify(ctx, b"xdel", argv[1])
    return removed


@command("xtrim", arity=-4, flags="write", keys=(1, 1, 1), group="stream",
         summary="Trims the stream to (approximately if '~' is passed) a certain size",
         since="5.0.0",
         complexity="O(N), with N being the number of evicted entries. Constant times are "
         "very small however, since entries are organized in macro nodes containing "
         "multiple entries that can be released with a single deallocation.",
         acl="@write @stream @slow")
def cmd_xtrim(ctx, argv):
    args = _parse_trim(argv, False)
    db = ctx.db
    _, stream = st.load(db, argv[1])
    if stream is None:
        return 0
    removed = st.trim(db, stream, args.maxlen, args.minid, args.approx, args.limit)
    stream.save(db)
    if removed:
        _notify(ctx, b"xtrim", argv[1])
    return removed


# --- XREAD / XREADGROUP ----------------------------------------------------------------------
class ReadArgs:
    __slots__ = ("count", "timeout", "keys", "raw_ids", "group", "consumer", "noack")

    def __init__(self) -> None:
        self.count = 0
        self.timeout: float | None = None  # seconds; None = no BLOCK
        self.keys: list[bytes] = []
        self.raw_ids: list[bytes] = []
        self.group: bytes | None = None
        self.consumer: bytes | None = None
        self.noack = False


def _parse_read(ctx, argv: list[bytes], group: bool) -> ReadArgs:
    args = ReadArgs()
    n = len(argv)
    streams_at = 0
    i = 1
    while i < n:
        more = n - i - 1
        word = argv[i].upper()
        if word == b"BLOCK" and more:
            if ctx.in_script:
                raise LedisError(errors.XREAD_BLOCK_IN_SCRIPT.format(_text(argv[0])))
            i += 1
            ms = _int(argv[i], errors.TIMEOUT_NOT_INTEGER)
            if ms < 0:
                raise LedisError(errors.TIMEOUT_NEGATIVE)
            args.timeout = ms / 1000.0
        elif word == b"COUNT" and more:
            i += 1
            args.count = max(_int(argv[i]), 0)
        elif word == b"STREAMS" and more:
            streams_at = i + 1
            rest = n - streams_at
            if rest % 2:
                raise LedisError(errors.XREAD_UNBALANCED)
            half = rest // 2
            args.keys = argv[streams_at:streams_at + half]
            args.raw_ids = argv[streams_at + half:]
            break
        elif word == b"GROUP" and more >= 2:
            if not group:
                raise LedisError(errors.XREAD_GROUP_OPTION)
            args.group, args.consumer = argv[i + 1], argv[i + 2]
            i += 2
        elif word == b"NOACK":
            if not group:
                raise LedisError(errors.XREAD_NOACK_OPTION)
            args.noack = True
        else:
            raise SYNTAX
        i += 1
    if not streams_at:
        raise SYNTAX
    if group and args.group is None:
        raise LedisError(errors.XREADGROUP_MISSING_GROUP)
    return args


def _read_for_retry(db, key: bytes) -> st.Stream | None:
    """The stream at ``key`` for a (re)try of a blocked read; a key that became another type
    meanwhile reads as "no data" (Redis serves stream readers from streams only; the types
    were checked when the command arrived)."""
    raw = db.lookup(key)
    return None if raw is None or raw[0] != st.STREAM else st.Stream(db, key, raw)


def _read_reply(ctx, served: list[tuple[bytes, list]]) -> Any:
    if not served:
        return NOT_READY
    if ctx.resp == 3:
        return PairList(served)  # a map; a key named twice is served twice, as in Redis
    return [[key, entries] for key, entries in served]


@command("xread", arity=-4, flags="readonly blocking movablekeys", keys=(0, 0, 0),
         group="stream",
         summary="Return never seen elements in multiple streams, with IDs greater than the "
         "ones reported by the caller for each stream. Can block.", since="5.0.0",
         complexity="For each stream mentioned: O(N) with N being the number of elements "
         "being returned, it means that XREAD-ing with a fixed COUNT is O(1). Note that when "
         "the BLOCK option is used, XADD will pay O(M) time in order to serve the M clients "
         "blocked on the stream getting new data.", acl="@read @stream @slow @blocking")
def cmd_xread(ctx, argv):
    args = _parse_read(ctx, argv, False)
    db = ctx.db
    after: list[StreamID] = []
    for key, raw in zip(args.keys, args.raw_ids):
        stream = st.read(db, key)
        if raw == b"$":
            after.append(ZERO_ID if stream is None else stream.last)
        elif raw == b">":
            raise LedisError(errors.XREAD_GT_ID)
        else:
            after.append(parse_id(raw)[0])

    def attempt(count: int) -> Any:
        serving = blocking.serving_key()
        served = []
        for key, gt in zip(args.keys, after):
            if serving is not None and key != serving:
                continue
            stream = _read_for_retry(db, key)
            if stream is None or not stream.length:
                continue
            if stream.last_entry_id(db) <= gt:
                continue
            start = st.next_id(gt)
            assert start is not None
            served.append((key, _entries(stream.entries(db, start, MAX_ID, count))))
        return _read_reply(ctx, served)

    result = attempt(args.count)
    if result is not NOT_READY:
        return result
    if args.timeout is None:
        return NullArray
    count = args.count or XREAD_BLOCKED_DEFAULT_COUNT
    return blocking.block(ctx, list(args.keys), args.timeout, lambda: attempt(count))


def _deliver(ctx, stream: st.Stream, group: st.Group, consumer: bytes, start: StreamID,
             count: int, noack: bool) -> list:
    """New entries for a consumer (``>``): advance the group, add them to the PELs."""
    db = ctx.db
    now = st.now_ms()
    items = stream.entries(db, start, MAX_ID, count)
    for sid, _ in items:
        if sid > group.last:
            if group.entries_read != st.UNKNOWN and not stream.has_tombstones_from(db, sid):
                group.entries_read += 1
            elif stream.added:
                group.entries_read = stream.estimate_read(db, sid)
            group.last = sid
        if not noack:
            group.add_pending(db, sid, consumer, now)
    group.save(db)
    return _entries(items)


def _history(ctx, stream: st.Stream, group: st.Group, consumer: bytes, start: StreamID,
             count: int) -> list:
    """A consumer's own pending entries from ``start`` (XREADGROUP with an ID); entries
    deleted since are ``[id, nil]``; each delivered one counts one more delivery."""
    db = ctx.db
    now = st.now_ms()
    out = []
    ids = group.consumer_pending(db, consumer, start)
    # Materialized up to COUNT first: the loop rewrites the NACKs.
    for sid in list(islice(ids, count) if count else ids):
        fields = stream.get(db, sid)
        if fields is not None:
            nack = group.nack(db, sid)
            if nack is not None:
                group.set_nack(db, sid, now, nack[1] + 1, consumer)
        out.append(_entry(sid, fields))
    return out


@command("xreadgroup", arity=-7, flags="write blocking movablekeys", keys=(0, 0, 0),
         group="stream",
         summary="Return new entries from a stream using a consumer group, or access the "
         "history of the pending entries for a given consumer. Can block.", since="5.0.0",
         complexity="For each stream mentioned: O(M) with M being the number of elements "
         "returned. If M is constant (e.g. always asking for the first 10 elements with "
         "COUNT), you can consider it O(1). On the other side when XREADGROUP blocks, XADD "
         "will pay the O(N) time in order to serve the N clients blocked on the stream "
         "getting new data.", acl="@write @stream @slow @blocking")
def cmd_xreadgroup(ctx, argv):
    args = _parse_read(ctx, argv, True)
    db = ctx.db
    group_name = args.group
    consumer = args.consumer
    assert group_name is not None and consumer is not None
    after: list[StreamID | None] = []  # None = ">"
    for key, raw in zip(args.keys, args.raw_ids):
        stream = st.read(db, key)
        if stream is None or stream.group(db, group_name) is None:
            raise LedisError(errors.XREADGROUP_NOGROUP.format(_text(key), _text(group_name)))
        if raw == b"$":
            raise LedisError(errors.XREADGROUP_DOLLAR)
        after.append(None if raw == b">" else parse_id(raw)[0])

    def attempt(count: int, retry: bool) -> Any:
        serving = blocking.serving_key()
        served = []
        for key, gt in zip(args.keys, after):
            if serving is not None and key != serving:
                continue
            raw = db.lookup(key)
            if raw is not None and raw[0] != st.STREAM:
                continue  # another type meanwhile: not data for this reader
            stream = None if raw is None else st.Stream(db, key, raw)
            group = None if stream is None else stream.group(db, group_name)
            if group is None:
                if retry:
                    raise LedisError(errors.XREADGROUP_GROUP_GONE)
                continue
            now = st.now_ms()
            if gt is not None:
                _touch(ctx, group, key, consumer, now)
                start = st.next_id(gt)
                entries = [] if start is None else _history(ctx, stream, group, consumer,
                                                              start, count)
                served.append((key, entries))
                continue
            if not stream.length or stream.last_entry_id(db) <= group.last:
                continue
            _touch(ctx, group, key, consumer, now)
            start = st.next_id(group.last)
            assert start is not None
            served.append((key, _deliver(ctx, stream, group, consumer, start, count,
                                         args.noack)))
        return _read_reply(ctx, served)

    result = attempt(args.count, False)
    if result is not NOT_READY:
        return result
    if args.timeout is None:
        return NullArray
    count = args.count or XREAD_BLOCKED_DEFAULT_COUNT
    return blocking.block(ctx, list(args.keys), args.timeout, lambda: attempt(count, True))


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


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
    i = 5
    while i < len(argv):
        word = argv[i].upper()
        if mkstream_allowed and word == b"MKSTREAM":
            mkstream = True
            i += 1
        elif word == b"ENTRIESREAD" and i + 1 < len(argv):
            entries_read = _int(argv[i + 1])
            if entries_read < 0 and entries_read != st.UNKNOWN:
                raise LedisError(errors.XGROUP_ENTRIES_READ)
            i += 2
        else:
            raise LedisError(errors.XGROUP_SYNTAX.format(_text(argv[1])))
    return mkstream, entries_read


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
    if len(argv) > 8:
        raise LedisError(errors.XGROUP_SYNTAX.format(_text(argv[1])))
    mkstream, entries_read = _xgroup_options(argv, True)
    db = ctx.db
    phys, stream, group = _xgroup_target(ctx, argv, False, mkstream)
    if argv[4] == b"$":
        sid = ZERO_ID if stream is None else stream.last
    else:
        sid = parse_id(argv[4])[0]
    if group is not None:
        raise LedisError(errors.XGROUP_BUSYGROUP)
    if stream is None:
        stream = st.create(db, argv[2], phys)
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
    if len(argv) not in (5, 7):
        raise LedisError(errors.XGROUP_SYNTAX.format(_text(argv[1])))
    _, entries_read = _xgroup_options(argv, False)
    _, stream, group = _xgroup_target(ctx, argv, True)
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
    while j < len(argv):
        more = len(argv) - 1 - j
        word = argv[j].upper()
        if word == b"FORCE":
            force = True
        elif word == b"JUSTID":
            justid = True
        elif word == b"IDLE" and more:
            j += 1
            delivery = now - _int(argv[j], errors.XCLAIM_IDLE)
        elif word == b"TIME" and more:
            j += 1
            delivery = _int(argv[j], errors.XCLAIM_TIME)
        elif word == b"RETRYCOUNT" and more:
            j += 1
            retry = _int(argv[j], errors.XCLAIM_RETRYCOUNT)
        elif word == b"LASTID" and more:
            j += 1
            last_id = parse_id(argv[j])[0]
        else:
            raise LedisError(errors.XCLAIM_OPTION.format(_text(argv[j])))
        j += 1
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
        group.move_pending(db, sid, owner, name, delivery, deliveries)
        if justid:
            out.append(format_id(sid))
        else:
            fields = stream.get(db, sid)
            out.append(None if fields is None else _entry(sid, fields))
    group.save(db)
    return out


@command("xautoclaim", arity=-6, flags="write fast", keys=(1, 1, 1), group="stream",
         summary="Changes (or acquires) ownership of messages in a consumer group, as if the "
         "messages were delivered to the specified consumer.", since="6.2.0",
         complexity="O(1) if COUNT is small.", acl="@write @stream @fast")
def cmd_xautoclaim(ctx, argv):
    min_idle = max(_int(argv[4], errors.XAUTOCLAIM_MIN_IDLE), 0)
    start, exclusive = parse_interval(argv[5], 0)
    if exclusive:
        after = st.next_id(start)
        if after is None:
            raise LedisError(errors.STREAM_START_INVALID)
        start = after
    count = 100
    justid = False
    j = 6
    while j < len(argv):
        word = argv[j].upper()
        if word == b"COUNT" and j + 1 < len(argv):
            count = _int(argv[j + 1], errors.XAUTOCLAIM_COUNT)
            if not 1 <= count <= (2**63 - 1) // 16:
                raise LedisError(errors.XAUTOCLAIM_COUNT)
            j += 1
        elif word == b"JUSTID":
            justid = True
        else:
            raise SYNTAX
        j += 1
    db = ctx.db
    stream, group = _group_or_none(ctx, argv[1], argv[2])
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
        group.move_pending(db, sid, owner, name, now, deliveries)
        if justid:
            claimed.append(format_id(sid))
        else:
            fields = stream.get(db, sid)
            claimed.append(None if fields is None else _entry(sid, fields))
        count -= 1
    if i < len(rows):
        cursor = rows[i][0]
    group.save(db)
    return [format_id(cursor), claimed, deleted]


# --- XINFO / XSETID --------------------------------------------------------------------------
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
    stream = _info_stream(ctx, argv[2])
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


@command("xsetid", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="stream",
         summary="An internal command for replicating stream values", since="5.0.0",
         complexity="O(1)", acl="@write @stream @fast")
def cmd_xsetid(ctx, argv):
    sid = parse_id(argv[2])[0]
    entries_added = -1
    max_deleted = ZERO_ID
    i = 3
    while i < len(argv):
        more = len(argv) - 1 - i
        word = argv[i].upper()
        if word == b"ENTRIESADDED" and more:
            entries_added = _int(argv[i + 1])
            if entries_added < 0:
                raise LedisError(errors.XSETID_ENTRIES_ADDED)
        elif word == b"MAXDELETEDID" and more:
            max_deleted = parse_id(argv[i + 1])[0]
            if sid < max_deleted:
                raise LedisError(errors.XSETID_BELOW_GIVEN_MAX_DELETED)
        else:
            raise SYNTAX
        i += 2
    db = ctx.db
    _, stream = st.load(db, argv[1])
    if stream is None:
        raise LedisError(errors.NO_SUCH_KEY)
    if stream.length:
        if sid < stream.last_entry_id(db):
            raise LedisError(errors.XSETID_BELOW_TOP)
        if entries_added != -1 and stream.length > entries_added:
            raise LedisError(errors.XSETID_ENTRIES_BELOW_LENGTH)
    stream.last = sid
    if entries_added != -1:
        stream.added = entries_added
    if max_deleted != ZERO_ID:
        stream.max_deleted = max_deleted
    stream.save(db)
    _notify(ctx, b"xsetid", argv[1])
    return OK
