"""Streams on disk: entries by ID, consumer groups, their pending entries lists and consumers.

Layout (all under the key's version, so DEL / expiry / overwrite stay one range delete)::

    meta  db(1) | key -> COLLECTION: type(1)=STREAM | expire_ms(8) | version(8) | length(8)
                         | last_id(16) | entries_added(8) | max_deleted_id(16)
    data  prefix | "e" | ms(8) | seq(8)                          -> entry fields (below)
          prefix | "g" | group                                   -> GROUP: last_id(16)
                                                                    | entries_read(8, signed)
                                                                    | pel_count(8)
          prefix | "c" | len(group)(4) | group | consumer         -> CONSUMER: seen_ms(8)
                                                                    | pel_count(8)
          prefix | "p" | len(group)(4) | group | id(16)           -> NACK: delivery_ms(8)
                                                                    | delivery_count(8)
                                                                    | consumer
          prefix | "q" | len(group)(4) | group | len(consumer)(4) | consumer | id(16) -> b""

``prefix`` is ``sub_prefix(db, version)``. IDs are two big-endian unsigned 64-bit
numbers, so byte order is ID order: XRANGE / XREVRANGE / XREAD are one iterator over the
``e`` range, and the first entry (XINFO's ``recorded-first-entry-id``, the lag estimate) is one
seek. An entry's value is its fields and values encoded as a RESP array of bulk strings
(``*2\r\n$1\r\nf\r\n$1\r\nv\r\n``): XRANGE / XREAD / XCLAIM ... pass it to the reply
unchanged (``replies.Raw``, which RESP2 and RESP3 share and every front end can parse), so a
read decodes nothing; measured, decoding was a third of XRANGE ... COUNT 10.

``p`` is a group's pending entries list (PEL), in ID order, each NACK naming its consumer;
``q`` is the same PEL indexed per consumer (XPENDING ... consumer, XREADGROUP history,
XGROUP DELCONSUMER). The counts in GROUP and CONSUMER records make XPENDING's summary and
XINFO cheap. Groups and consumers iterate sorted by name, as Redis's radix trees do.

A stream is not removed when it becomes empty (Redis keeps it, with its last ID and groups):
only DEL / expiry / overwrite remove it. ``length`` sits where every collection keeps its
size, so the generic pieces (``copy_value`` for COPY / MOVE, the compactor) work
unchanged. ``entries_read`` is -1 when unknown (Redis's ``SCG_INVALID_ENTRIES_READ``).

Differences from Redis's in-memory layout that a client can see: there are no radix tree
nodes, so XINFO STREAM's ``radix-tree-keys`` / ``radix-tree-nodes`` are estimates (one
"node" per 100 entries), and approximate trimming (``~``) trims exactly as far as it may
within its LIMIT (Redis trims whole nodes only; both keep at least the requested entries).
"""

from __future__ import annotations

import struct
import time
from collections.abc import Iterator

import hiredis

from ledis import errors
from ledis.errors import LedisError
from ledis.storage import layout
from ledis.storage.keyspace import WRONGTYPE, Database
from ledis.storage.layout import COLLECTION, DATA, META, U32, U64, prefix_end, sub_prefix

STREAM = layout.STREAM
MAX64 = 2**64 - 1
MAX_ID = (MAX64, MAX64)
ZERO_ID = (0, 0)
UNKNOWN = -1  # entries_read not known (SCG_INVALID_ENTRIES_READ)
NODE_ENTRIES = 100  # Redis's stream-node-max-entries, for XINFO's radix tree estimates
APPROX_LIMIT = 100 * NODE_ENTRIES  # Redis's default LIMIT for '~' trimming

StreamID = tuple[int, int]
Entry = tuple[StreamID, bytes]  # id, encoded fields (encode_fields)

_EXTRA = struct.Struct(">QQQQQ")  # last ms, last seq, entries added, max deleted ms, seq
_ID = struct.Struct(">QQ")
_GROUP = struct.Struct(">QQqQ")  # last ms, last seq, entries read, pel count
_CONSUMER = struct.Struct(">QQ")  # seen ms, pel count
_NACK = struct.Struct(">QQ")  # delivery ms, delivery count
_NO_EXPIRE = layout.NO_EXPIRE


def now_ms() -> int:
    return int(time.time() * 1000)


def format_id(sid: StreamID) -> bytes:
    return b"%d-%d" % sid


def encode_fields(fields: list[bytes]) -> bytes:
    """An entry's fields and values as the RESP array a reply carries (see module docstring):
    reads hand the stored bytes to the reply as ``replies.Raw``, decoding nothing."""
    return b"*%d\r\n%s" % (len(fields), b"".join(
        [b"$%d\r\n%s\r\n" % (len(f), f) for f in fields]))


_reader = hiredis.Reader()


def decode_fields(raw: bytes) -> list[bytes]:
    _reader.feed(raw)
    return _reader.gets()


def next_id(sid: StreamID) -> StreamID | None:
    """The ID right after ``sid`` (Redis's streamIncrID), None after the last possible ID."""
    ms, seq = sid
    if seq < MAX64:
        return ms, seq + 1
    if ms < MAX64:
        return ms + 1, 0
    return None


def previous_id(sid: StreamID) -> StreamID | None:
    """The ID right before ``sid`` (streamDecrID), None before 0-0."""
    ms, seq = sid
    if seq > 0:
        return ms, seq - 1
    if ms > 0:
        return ms - 1, MAX64
    return None


def _group_part(group: bytes) -> bytes:
    return U32.pack(len(group)) + group


class Stream:
    """A live stream's metadata, read from its ``meta`` record and written back by ``save``."""

    __slots__ = ("key", "raw", "prefix", "length", "last", "added", "max_deleted")

    def __init__(self, db: Database, key: bytes, raw: bytes) -> None:
        self.key = key
        self.raw = raw
        self.prefix = sub_prefix(db.index, U64.unpack_from(raw, 9)[0])
        self.length = U64.unpack_from(raw, 17)[0]
        last_ms, last_seq, self.added, del_ms, del_seq = _EXTRA.unpack_from(raw, 25)
        self.last = (last_ms, last_seq)
        self.max_deleted = (del_ms, del_seq)

    def save(self, db: Database) -> None:
        raw = (self.raw[:17] + U64.pack(self.length)
               + _EXTRA.pack(*self.last, self.added, *self.max_deleted))
        if raw != self.raw:
            db.engine.put(META, db.prefix + self.key, raw)
            self.raw = raw

    # --- entries ---------------------------------------------------------------------------
    def entry_key(self, sid: StreamID) -> bytes:
        return self.prefix + b"e" + _ID.pack(*sid)

    def entries(self, db: Database, start: StreamID, end: StreamID, count: int = 0,
                reverse: bool = False) -> list[Entry]:
        """Entries with ``start <= id <= end`` in ID order (newest first when ``reverse``);
        at most ``count`` of them when ``count`` > 0."""
        if start > end:
            return []
        n = len(self.prefix) + 1
        out: list[Entry] = []
        for k, v in db.engine.iterate(DATA, self.entry_key(start), self.entry_key(end) + b"\0",
                                      reverse):
            out.append((_ID.unpack_from(k, n), v))
            if len(out) == count:
                break
        return out

    def walk(self, db: Database, start: StreamID, end: StreamID, reverse: bool = False
             ) -> Iterator[Entry]:
        """``entries`` for a streamed reply: a walk pinned now (``Engine.walk``)."""
        if start > end:
            return iter(())
        n = len(self.prefix) + 1
        walk = db.engine.walk(DATA, self.entry_key(start), self.entry_key(end) + b"\0",
                              reverse)
        return ((_ID.unpack_from(k, n), v) for k, v in walk)

    def ids(self, db: Database, start: StreamID = ZERO_ID, end: StreamID = MAX_ID
            ) -> Iterator[StreamID]:
        n = len(self.prefix) + 1
        for k, _ in db.engine.iterate(DATA, self.entry_key(start), self.entry_key(end) + b"\0"):
            yield _ID.unpack_from(k, n)

    def get(self, db: Database, sid: StreamID) -> bytes | None:
        """An entry's encoded fields (:func:`encode_fields`), None when it does not exist."""
        return db.engine.get(DATA, self.entry_key(sid))

    def exists(self, db: Database, sid: StreamID) -> bool:
        return db.engine.get(DATA, self.entry_key(sid)) is not None

    def first_id(self, db: Database) -> StreamID:
        """The first entry's ID, 0-0 when empty (Redis's ``first_id``)."""
        if not self.length:
            return ZERO_ID
        return next(self.ids(db), ZERO_ID)

    def last_entry_id(self, db: Database) -> StreamID:
        """The last entry's ID, 0-0 when empty (streamLastValidID)."""
        if not self.length:
            return ZERO_ID
        n = len(self.prefix) + 1
        for k, _ in db.engine.iterate(DATA, self.entry_key(ZERO_ID),
                                      self.entry_key(MAX_ID) + b"\0", True):
            return _ID.unpack_from(k, n)
        return ZERO_ID

    def remove_entry(self, db: Database, sid: StreamID) -> None:
        db.engine.delete(DATA, self.entry_key(sid))
        self.length -= 1

    # --- consumer groups -------------------------------------------------------------------
    def group(self, db: Database, name: bytes) -> Group | None:
        raw = db.engine.get(DATA, self.prefix + b"g" + name)
        return None if raw is None else Group(self, name, raw)

    def groups(self, db: Database) -> list[Group]:
        start = self.prefix + b"g"
        n = len(start)
        return [Group(self, k[n:], v)
                for k, v in db.engine.iterate(DATA, start, prefix_end(start))]

    def group_count(self, db: Database) -> int:
        start = self.prefix + b"g"
        return sum(1 for _ in db.engine.iterate(DATA, start, prefix_end(start)))

    # --- lag and read counters (Redis 7.0's t_stream.c, same decisions) --------------------
    def has_tombstones_from(self, db: Database, start: StreamID) -> bool:
        """streamRangeHasTombstones(s, start, NULL): may a deleted entry lie at or after
        ``start``?"""
        if not self.length or self.max_deleted == ZERO_ID:
            return False
        if self.first_id(db) > self.max_deleted:
            return False
        return start <= self.max_deleted

    def estimate_read(self, db: Database, sid: StreamID) -> int:
        """streamEstimateDistanceFromFirstEverEntry: the logical read counter of ``sid``."""
        if not self.added:
            return 0
        if not self.length and sid <= self.last:
            return self.added
        if sid == self.last:
            return self.added
        if sid > self.last:
            return UNKNOWN
        first = self.first_id(db)
        if self.max_deleted == ZERO_ID or self.max_deleted < first:
            if sid < first:
                return self.added - self.length
            if sid == first:
                return self.added - self.length + 1
        return UNKNOWN

    def lag(self, db: Database, group: Group) -> int | None:
        """XINFO GROUPS ``lag`` (streamReplyWithCGLag): None when it cannot be known."""
        if not self.added:
            return 0
        if group.entries_read != UNKNOWN and not self.has_tombstones_from(db, group.last):
            return self.added - group.entries_read
        read = self.estimate_read(db, group.last)
        return None if read == UNKNOWN else self.added - read


class Group:
    """One consumer group of a stream; ``save`` writes its record back."""

    __slots__ = ("stream", "name", "last", "entries_read", "pel_count", "key", "part")

    def __init__(self, stream: Stream, name: bytes, raw: bytes | None = None) -> None:
        self.stream = stream
        self.name = name
        self.key = stream.prefix + b"g" + name
        self.part = _group_part(name)
        if raw is None:
            self.last, self.entries_read, self.pel_count = ZERO_ID, UNKNOWN, 0
        else:
            last_ms, last_seq, self.entries_read, self.pel_count = _GROUP.unpack(raw)
            self.last = (last_ms, last_seq)

    def save(self, db: Database) -> None:
        db.engine.put(DATA, self.key, _GROUP.pack(*self.last, self.entries_read,
                                                  self.pel_count))

    def destroy(self, db: Database) -> None:
        """XGROUP DESTROY: O(consumers + PEL). Keys are deleted one by one, not by range:
        a range delete leaves the engine's read cache alone, and a group of the same name
        may be created again and read in the same batch."""
        prefix = self.stream.prefix
        engine = db.engine
        for tag in (b"c", b"p", b"q"):
            start = prefix + tag + self.part
            for k in [k for k, _ in engine.iterate(DATA, start, prefix_end(start))]:
                engine.delete(DATA, k)
        engine.delete(DATA, self.key)

    # --- consumers -------------------------------------------------------------------------
    def consumer_key(self, name: bytes) -> bytes:
        return self.stream.prefix + b"c" + self.part + name

    def consumer(self, db: Database, name: bytes) -> tuple[int, int] | None:
        """``(seen_ms, pel_count)`` of a consumer, None if it does not exist."""
        raw = db.engine.get(DATA, self.consumer_key(name))
        return None if raw is None else _CONSUMER.unpack(raw)

    def consumers(self, db: Database) -> list[tuple[bytes, int, int]]:
        """``(name, seen_ms, pel_count)`` of every consumer, by name."""
        start = self.stream.prefix + b"c" + self.part
        n = len(start)
        return [(k[n:], *_CONSUMER.unpack(v))
                for k, v in db.engine.iterate(DATA, start, prefix_end(start))]

    def save_consumer(self, db: Database, name: bytes, seen_ms: int, pel_count: int) -> None:
        db.engine.put(DATA, self.consumer_key(name), _CONSUMER.pack(seen_ms, pel_count))

    def touch_consumer(self, db: Database, name: bytes, now: int) -> tuple[bool, int]:
        """Look a consumer up the way commands that act for it do (SLC_DEFAULT): create it
        if missing, refresh its seen-time. Returns ``(created, pel_count)``."""
        found = self.consumer(db, name)
        pel = 0 if found is None else found[1]
        self.save_consumer(db, name, now, pel)
        return found is None, pel

    def delete_consumer(self, db: Database, name: bytes) -> int:
        """XGROUP DELCONSUMER: drop the consumer and its pending entries; returns how many it
        had."""
        found = self.consumer(db, name)
        if found is None:
            return 0
        start = self.stream.prefix + b"q" + self.part + _group_part(name)
        n = len(start)
        ids = [_ID.unpack_from(k, n) for k, _ in db.engine.iterate(DATA, start,
                                                                  prefix_end(start))]
        for sid in ids:
            db.engine.delete(DATA, self.pel_key(sid))
            db.engine.delete(DATA, start + _ID.pack(*sid))
        if ids:
            self.pel_count -= len(ids)
            self.save(db)
        db.engine.delete(DATA, self.consumer_key(name))
        return found[1]

    # --- pending entries (PEL) -------------------------------------------------------------
    def pel_key(self, sid: StreamID) -> bytes:
        return self.stream.prefix + b"p" + self.part + _ID.pack(*sid)

    def consumer_pel_key(self, consumer: bytes, sid: StreamID) -> bytes:
        return self.stream.prefix + b"q" + self.part + _group_part(consumer) + _ID.pack(*sid)

    def nack(self, db: Database, sid: StreamID) -> tuple[int, int, bytes] | None:
        """``(delivery_ms, delivery_count, consumer)`` of a pending ID, or None."""
        raw = db.engine.get(DATA, self.pel_key(sid))
        if raw is None:
            return None
        return (*_NACK.unpack_from(raw), raw[16:])

    def pending(self, db: Database, start: StreamID = ZERO_ID, end: StreamID = MAX_ID
                ) -> Iterator[tuple[StreamID, int, int, bytes]]:
        """``(id, delivery_ms, delivery_count, consumer)`` of the group PEL from ``start``."""
        if start > end:
            return
        base = self.stream.prefix + b"p" + self.part
        n = len(base)
        for k, v in db.engine.iterate(DATA, base + _ID.pack(*start),
                                      base + _ID.pack(*end) + b"\0"):
            yield (_ID.unpack_from(k, n), *_NACK.unpack_from(v), v[16:])

    def last_pending(self, db: Database) -> StreamID | None:
        """The highest pending ID (one reverse seek), None when the PEL is empty."""
        base = self.stream.prefix + b"p" + self.part
        for k, _ in db.engine.iterate(DATA, base, prefix_end(base), True):
            return _ID.unpack_from(k, len(base))
        return None

    def consumer_pending(self, db: Database, consumer: bytes, start: StreamID = ZERO_ID,
                         end: StreamID = MAX_ID) -> Iterator[StreamID]:
        if start > end:
            return
        base = self.stream.prefix + b"q" + self.part + _group_part(consumer)
        n = len(base)
        for k, _ in db.engine.iterate(DATA, base + _ID.pack(*start),
                                      base + _ID.pack(*end) + b"\0"):
            yield _ID.unpack_from(k, n)

    def set_nack(self, db: Database, sid: StreamID, delivery_ms: int, count: int,
                 consumer: bytes) -> None:
        db.engine.put(DATA, self.pel_key(sid), _NACK.pack(delivery_ms, count) + consumer)

    def add_pending(self, db: Database, sid: StreamID, consumer: bytes, now: int) -> None:
        """Deliver ``sid`` to ``consumer`` (a new NACK, or one taken over from another
        consumer with its count reset, as Redis does after SETID moved the group back)."""
        old = self.nack(db, sid)
        if old is not None:
            self._unlink(db, old[2], sid)
        else:
            self.pel_count += 1
        self.set_nack(db, sid, now, 1, consumer)
        self._link(db, consumer, sid)

    def move_pending(self, db: Database, sid: StreamID, old_consumer: bytes | None,
                     consumer: bytes, delivery_ms: int, count: int) -> None:
        """Give a pending ID to ``consumer`` (XCLAIM / XAUTOCLAIM); ``old_consumer`` None
        means a NACK created by FORCE."""
        if old_consumer is None:
            self.pel_count += 1
        elif old_consumer != consumer:
            self._unlink(db, old_consumer, sid)
        if old_consumer != consumer:
            self._link(db, consumer, sid)
        self.set_nack(db, sid, delivery_ms, count, consumer)

    def acknowledge(self, db: Database, sid: StreamID) -> bool:
        old = self.nack(db, sid)
        if old is None:
            return False
        db.engine.delete(DATA, self.pel_key(sid))
        self._unlink(db, old[2], sid)
        self.pel_count -= 1
        return True

    def _link(self, db: Database, consumer: bytes, sid: StreamID) -> None:
        db.engine.put(DATA, self.consumer_pel_key(consumer, sid), b"")
        found = self.consumer(db, consumer)
        seen, pel = (now_ms(), 0) if found is None else found
        self.save_consumer(db, consumer, seen, pel + 1)

    def _unlink(self, db: Database, consumer: bytes, sid: StreamID) -> None:
        db.engine.delete(DATA, self.consumer_pel_key(consumer, sid))
        found = self.consumer(db, consumer)
        if found is not None:
            self.save_consumer(db, consumer, found[0], max(found[1] - 1, 0))


# --- the gate --------------------------------------------------------------------------------
def read(db: Database, key: bytes) -> Stream | None:
    """The live stream at ``key`` (WRONGTYPE for another type), None when missing; a read,
    counted as a keyspace hit or miss (``Database.read``)."""
    raw = db.read_type(key, STREAM)
    return None if raw is None else Stream(db, key, raw)


def load(db: Database, key: bytes) -> tuple[bytes | None, Stream | None]:
    """``(physical meta, live stream or None)`` for a write; WRONGTYPE for another type."""
    raw = db.engine.get(META, db.prefix + key)
    if raw is None:
        return None, None
    if raw[1:9] != _NO_EXPIRE and U64.unpack_from(raw, 1)[0] <= time.time() * 1000:
        return raw, None
    if raw[0] != STREAM:
        raise WRONGTYPE.with_traceback(None)
    return raw, Stream(db, key, raw)


def create(db: Database, key: bytes, phys: bytes | None) -> Stream:
    """A new empty stream at ``key`` (replacing whatever was physically there)."""
    raw = COLLECTION.pack(STREAM, 0, db.new_version(), 0) + _EXTRA.pack(0, 0, 0, 0, 0)
    db.replace(key, raw, phys)
    return Stream(db, key, raw)


# --- XADD / XTRIM / XDEL -------------------------------------------------------------------
def add(db: Database, key: bytes, fields: list[bytes], sid: StreamID | None, seq_given: bool,
        nomkstream: bool) -> tuple[Stream, StreamID] | None:
    """XADD without trimming: append one entry. ``sid`` None is ``*``; ``seq_given`` False
    is ``ms-*``. Returns None when the key is missing and ``nomkstream``."""
    phys, stream = load(db, key)
    if stream is None:
        if nomkstream:
            return None
        stream = create(db, key, phys)
    last = stream.last
    if last == MAX_ID:
        raise LedisError(errors.STREAM_EXHAUSTED)
    if sid is None:
        ms = now_ms()
        new = (ms, 0) if ms > last[0] else next_id(last)
        assert new is not None
    elif not seq_given:
        if sid[0] == last[0]:
            if last[1] == MAX64:
                raise LedisError(errors.XADD_SEQ_OVERFLOW)
            new = (last[0], last[1] + 1)
        else:
            new = (sid[0], 0)
    else:
        new = sid
    if new <= last:
        raise LedisError(errors.XADD_ID_SMALL)
    db.engine.put(DATA, stream.entry_key(new), encode_fields(fields))
    stream.length += 1
    stream.added += 1
    stream.last = new
    return stream, new


def trim(db: Database, stream: Stream, maxlen: int | None, minid: StreamID | None,
         approx: bool, limit: int) -> int:
    """Remove the oldest entries beyond ``maxlen`` / below ``minid``; with ``approx`` at most
    ``limit`` of them (0 = no limit). Returns how many were removed."""
    if maxlen is not None:
        wanted = stream.length - maxlen
    else:
        wanted = stream.length
    if wanted <= 0:
        return 0
    if approx and limit:
        wanted = min(wanted, limit)
    removed = 0
    victims: list[StreamID] = []
    for sid in stream.ids(db):
        if removed >= wanted or (minid is not None and sid >= minid):
            break
        victims.append(sid)
        removed += 1
    for sid in victims:
        stream.remove_entry(db, sid)
    return removed


def delete(db: Database, stream: Stream, ids: list[StreamID]) -> int:
    """XDEL: remove entries by ID; the largest one removed becomes ``max_deleted``."""
    removed = 0
    for sid in ids:
        if stream.exists(db, sid):
            stream.remove_entry(db, sid)
            removed += 1
            if sid > stream.max_deleted:
                stream.max_deleted = sid
    return removed


# --- dump / load -----------------------------------------------------------------------------
def state(db: Database, stream: Stream) -> dict:
    """Everything a stream holds, as plain values (``ledis dump``)."""
    groups = []
    for g in stream.groups(db):
        groups.append({
            "name": g.name, "last": g.last, "entries_read": g.entries_read,
            "consumers": [(name, seen) for name, seen, _ in g.consumers(db)],
            "pending": [(sid, t, c, who) for sid, t, c, who in g.pending(db)],
        })
    return {
        "entries": [(sid, decode_fields(v)) for sid, v in stream.entries(db, ZERO_ID, MAX_ID)],
        "last": stream.last, "added": stream.added, "max_deleted": stream.max_deleted,
        "groups": groups,
    }


def restore(db: Database, key: bytes, value: dict) -> None:
    """Write a stream from :func:`state`'s values (``ledis load``), replacing ``key``."""
    phys = db.engine.get(META, db.prefix + key)
    stream = create(db, key, phys)
    for sid, fields in value["entries"]:
        db.engine.put(DATA, stream.entry_key(tuple(sid)), encode_fields(list(fields)))
    stream.length = len(value["entries"])
    stream.last = tuple(value["last"])
    stream.added = value["added"]
    stream.max_deleted = tuple(value["max_deleted"])
    stream.save(db)
    for g in value["groups"]:
        group = Group(stream, g["name"])
        group.last = tuple(g["last"])
        group.entries_read = g["entries_read"]
        for name, seen in g["consumers"]:
            group.save_consumer(db, name, seen, 0)
        for sid, delivery, count, who in g["pending"]:
            group.move_pending(db, tuple(sid), None, who, delivery, count)
        group.save(db)
