"""Stream commands (Redis 7.0): XADD, XLEN, XRANGE / XREVRANGE, XDEL, XTRIM, XREAD,
XREADGROUP and XSETID; the consumer-group commands (XGROUP, XACK, XPENDING, XCLAIM,
XAUTOCLAIM) and XINFO are in :mod:`ledis.commands.streamgroups`.

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
from ledis.commands import streaming
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, NullArray, PairList, Raw
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


def _notify(ctx, event: bytes, key: bytes, cls: int = pubsub.STREAM_CLASS) -> None:
    """A keyspace event of class ``t`` (Redis's NOTIFY_STREAM), published at once as Redis
    does from inside the command (the generic after-the-fact events of
    ``ledis.pubsub.notify_write`` cannot tell an XADD that trimmed from one that did not);
    ``cls`` NEW for the ``new`` of a stream the command creates."""
    core = ctx.core
    if not core.notify_writes:
        return
    flags = pubsub.notify_flags(core)
    if flags:
        pubsub.notify(core, flags, cls, event, key, ctx.db.logical)


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
    limit_given = False
    cur = ArgCursor(argv, 2)
    while cur:
        opt = cur.peek() or b""  # ``while cur``: a word is there
        word = opt.upper()
        if xadd and opt == b"*":
            break
        if word in (b"MAXLEN", b"MINID") and cur.remaining() > 1:
            if args.trims:
                raise LedisError(errors.XTRIM_BOTH)
            cur.take()
            args.approx = False
            if cur.remaining() >= 2 and cur.peek() in (b"~", b"="):
                args.approx = cur.take() == b"~"
            if word == b"MAXLEN":
                args.maxlen = _int(cur.take())
                if args.maxlen < 0:
                    raise LedisError(errors.XTRIM_MAXLEN_NEGATIVE)
            else:
                args.minid = parse_id(cur.take())[0]
        elif word == b"LIMIT" and cur.remaining() > 1:
            cur.take()
            args.limit = _int(cur.take())
            if args.limit < 0:
                raise LedisError(errors.XTRIM_LIMIT_NEGATIVE)
            limit_given = True
        elif xadd and word == b"NOMKSTREAM":
            cur.take()
            args.nomkstream = True
        elif xadd:
            # the entry ID ends the options; ``next`` points at it
            args.sid, args.seq_given = parse_id(opt, star=True)
            break
        else:
            raise SYNTAX
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
    args.next = cur.pos
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
    fresh = ctx.core.notify_writes and db.lookup(key) is None  # for the "new" event
    added = st.add(db, key, argv[field_pos:], args.sid, args.seq_given, args.nomkstream)
    if added is None:
        return None
    stream, sid = added
    if fresh:
        _notify(ctx, b"new", key, pubsub.NEW)
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
    args = ArgCursor(argv, 4)
    while args:
        if args.remaining() > 1 and args.eat(b"COUNT"):
            count = max(_int(args.take()), 0)
        else:
            raise SYNTAX
    stream = st.read(ctx.db, argv[1])
    if stream is None:
        return []
    if count == 0:
        return NullArray
    if ctx.wire and stream.length > streaming.STREAM_MIN:
        streamed = _streamed_range(ctx, stream, start, end, count, reverse)
        if streamed is not None:
            return streamed
    return _entries(stream.entries(ctx.db, start, end, max(count, 0), reverse))


def _streamed_range(ctx, stream: st.Stream, start: StreamID, end: StreamID, count: int,
                    reverse: bool):
    """XRANGE / XREVRANGE sent in chunks when long (as ZRANGE BYSCORE: ledis/commands/
    streaming.py), else the whole reply from the entries read to find out; None: the plain
    path. Up to a chunk and one more entry is read first; past it, the reply's length is the
    stream's for the whole range (``- +``), else known at the end of the walk (the chunks are
    held until then, as KEYS does; other clients are served between them)."""
    size = streaming.chunk_size(ctx, count if count > 0 else stream.length)
    if not size:
        return None
    head, walk = streaming.peek(stream.walk(ctx.db, start, end, reverse), size, count)
    if walk is None:
        return _entries(head)
    total = None
    if start == ZERO_ID and end == MAX_ID:
        total = stream.length if count < 0 else min(stream.length, count)
    return streaming.streamed(_entry_chunks(walk, size), total)


def _entry_chunks(walk, size: int):
    """``[id, [field, value ...]]`` of each entry of ``walk``, ``size`` entries a chunk (the
    fields are stored as the RESP array a reply carries: ``stream.encode_fields``)."""
    while True:
        part = [(b"%d-%d" % sid, fields) for sid, fields in islice(walk, size)]
        if not part:
            return
        yield len(part), b"".join([b"*2\r\n$%d\r\n%s\r\n%s" % (len(i), i, fields)
                                   for i, fields in part])


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
    streams_at = 0
    cur = ArgCursor(argv, 1)
    while cur:
        more = cur.remaining() - 1
        word = cur.word()
        if word == b"BLOCK" and more:
            if ctx.in_script:
                raise LedisError(errors.XREAD_BLOCK_IN_SCRIPT.format(_text(argv[0])))
            ms = _int(cur.take(), errors.TIMEOUT_NOT_INTEGER)
            if ms < 0:
                raise LedisError(errors.TIMEOUT_NEGATIVE)
            args.timeout = ms / 1000.0
        elif word == b"COUNT" and more:
            args.count = max(_int(cur.take()), 0)
        elif word == b"STREAMS" and more:
            streams_at = cur.pos
            rest = cur.rest()
            if len(rest) % 2:
                raise LedisError(errors.XREAD_UNBALANCED)
            half = len(rest) // 2
            args.keys = rest[:half]
            args.raw_ids = rest[half:]
            break
        elif word == b"GROUP" and more >= 2:
            if not group:
                raise LedisError(errors.XREAD_GROUP_OPTION)
            args.group, args.consumer = cur.take(), cur.take()
        elif word == b"NOACK":
            if not group:
                raise LedisError(errors.XREAD_NOACK_OPTION)
            args.noack = True
        else:
            raise SYNTAX
    if not streams_at:
        raise SYNTAX
    if group and args.group is None:
        raise LedisError(errors.XREADGROUP_MISSING_GROUP)
    return args


def _read_for_retry(db, key: bytes, retry: bool) -> st.Stream | None:
    """The stream at ``key`` for a (re)try of a blocked read; a key that became another type
    meanwhile reads as "no data" (Redis serves stream readers from streams only; the types
    were checked when the command arrived). The first try is Redis's second read lookup of
    every key (counted: ``Database.read``); a retry's is not counted, as Redis's is not."""
    raw = db.lookup(key) if retry else db.read(key)
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
    for key, raw in zip(args.keys, args.raw_ids, strict=True):
        stream = st.read(db, key)
        if raw == b"$":
            after.append(ZERO_ID if stream is None else stream.last)
        elif raw == b">":
            raise LedisError(errors.XREAD_GT_ID)
        else:
            after.append(parse_id(raw)[0])

    def attempt(count: int, retry: bool) -> Any:
        serving = blocking.serving_key()
        served = []
        for key, gt in zip(args.keys, after, strict=True):
            if serving is not None and key != serving:
                continue
            stream = _read_for_retry(db, key, retry)
            if stream is None or not stream.length:
                continue
            if stream.last_entry_id(db) <= gt:
                continue
            start = st.next_id(gt)
            assert start is not None
            served.append((key, _entries(stream.entries(db, start, MAX_ID, count))))
        return _read_reply(ctx, served)

    result = attempt(args.count, False)
    if result is not NOT_READY:
        return result
    if args.timeout is None:
        return NullArray
    count = args.count or XREAD_BLOCKED_DEFAULT_COUNT
    return blocking.block(ctx, list(args.keys), args.timeout, lambda: attempt(count, True))


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
    for key, raw in zip(args.keys, args.raw_ids, strict=True):
        stream = st.read(db, key)
        if stream is None or stream.group(db, group_name) is None:
            raise LedisError(errors.XREADGROUP_NOGROUP.format(_text(key), _text(group_name)))
        if raw == b"$":
            raise LedisError(errors.XREADGROUP_DOLLAR)
        after.append(None if raw == b">" else parse_id(raw)[0])

    def attempt(count: int, retry: bool) -> Any:
        serving = blocking.serving_key()
        served = []
        for key, gt in zip(args.keys, after, strict=True):
            if serving is not None and key != serving:
                continue
            raw = db.lookup(key) if retry else db.read(key)  # as in _read_for_retry
            if raw is not None and raw[0] != st.STREAM:
                continue  # another type meanwhile: not data for this reader
            stream = None if raw is None else st.Stream(db, key, raw)
            group = None if stream is None else stream.group(db, group_name)
            if group is None:
                if retry:
                    raise LedisError(errors.XREADGROUP_GROUP_GONE)
                continue
            assert stream is not None  # a group is found only in a stream
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


# --- XSETID --------------------------------------------------------------------------------------
@command("xsetid", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="stream",
         summary="An internal command for replicating stream values", since="5.0.0",
         complexity="O(1)", acl="@write @stream @fast")
def cmd_xsetid(ctx, argv):
    sid = parse_id(argv[2])[0]
    entries_added = -1
    max_deleted = ZERO_ID
    args = ArgCursor(argv, 3)
    while args:
        more = args.remaining() - 1
        word = args.word()
        if word == b"ENTRIESADDED" and more:
            entries_added = _int(args.take())
            if entries_added < 0:
                raise LedisError(errors.XSETID_ENTRIES_ADDED)
        elif word == b"MAXDELETEDID" and more:
            max_deleted = parse_id(args.take())[0]
            if sid < max_deleted:
                raise LedisError(errors.XSETID_BELOW_GIVEN_MAX_DELETED)
        else:
            raise SYNTAX
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
