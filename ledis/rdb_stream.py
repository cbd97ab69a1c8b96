"""The stream codec of DUMP / RESTORE: Redis 7.0's ``RDB_TYPE_STREAM_LISTPACKS`` (15) and
``_2`` (19) objects <-> the value ``ledis.storage.types.stream.state`` returns and ``restore``
takes. Split out of :mod:`ledis.rdb` (which plugs these into its ``DECODERS`` / ``ENCODERS``)
because a stream object is a format of its own: listpack nodes, consumer groups, PELs.
"""

from __future__ import annotations

import itertools
import struct

from ledis.rdb import (
    RDB_TYPE_STREAM_LISTPACKS_2,
    FormatError,
    Reader,
    Value,
    _listpack_entry,
    encode_length,
    encode_string,
    listpack,
    listpack_entries,
    string_to_int,
)

# --- streams (RDB_TYPE_STREAM_LISTPACKS / _2, Redis 7.0's rdb.c and t_stream.c) ----------------
# The value is the shape ``ledis.storage.types.stream.state`` returns and ``restore`` takes:
# {"entries": [(id, [field, value, ...])], "last": id, "added": n, "max_deleted": id,
#  "groups": [{"name", "last", "entries_read", "consumers": [(name, seen_ms)],
#              "pending": [(id, delivery_ms, delivery_count, consumer)]}]}, ids (ms, seq).
#
# The object: ``nodes(len)``, each node ``master_id(string of 16 bytes, two big-endian u64) |
# listpack(string)``; then ``length, last_ms, last_seq`` and, in type 19 only, ``first_ms,
# first_seq, max_deleted_ms, max_deleted_seq, entries_added``; then ``groups(len)``, each
# ``name | last_ms | last_seq | entries_read (19 only; 2**64-1 = unknown) | pel(len) |
# (id(16 raw) | delivery_ms(8 LE) | delivery_count(len))* | consumers(len) | (name |
# seen_ms(8 LE) | pel(len) | id(16 raw)*)*``. Redis 7.2 adds a consumer active-time (type
# 21); 7.0.15 writes none, and neither does ledis.
#
# A node's listpack starts with a master entry ``count | deleted | n | field*n | 0``, then
# each entry ``flags | ms_diff | seq_diff | [n | (field value)*n] or, with SAMEFIELDS, value*n
# | lp_count``; the diffs are from the master ID as int64 wrapping around 2**64 (an entry
# with a later ms but a smaller seq than the master has a negative seq diff). Deleted entries
# stay in the listpack flagged DELETED and are skipped.
STREAM_ITEM_FLAG_DELETED = 1
STREAM_ITEM_FLAG_SAMEFIELDS = 2
_STREAM_NODE_ENTRIES = 100  # Redis's stream-node-max-entries: entries per written node
_U64 = 1 << 64
_STREAM_ID = struct.Struct(">QQ")


def _lp_int(raw: bytes) -> int:
    number = string_to_int(raw)
    if number is None:
        raise FormatError("listpack integer expected")
    return number


def _stream_node(master: tuple[int, int], blob: bytes) -> list[tuple[tuple[int, int], list[bytes]]]:
    """The live entries of one listpack node."""
    items = listpack_entries(blob)
    if not items:
        raise FormatError("empty listpack inside a stream")
    valid, deleted, nfields = _lp_int(items[0]), _lp_int(items[1]), _lp_int(items[2])
    master_fields = items[3:3 + nfields]
    pos = 3 + nfields
    if len(master_fields) != nfields or items[pos:pos + 1] != [b"0"]:
        raise FormatError("bad stream master entry")
    pos += 1
    out = []
    seen = 0
    while pos < len(items):
        flags = _lp_int(items[pos])
        ms = (master[0] + _lp_int(items[pos + 1])) % _U64
        seq = (master[1] + _lp_int(items[pos + 2])) % _U64
        start = pos
        pos += 3
        if flags & STREAM_ITEM_FLAG_SAMEFIELDS:
            values = items[pos:pos + nfields]
            if len(values) != nfields:
                raise FormatError("stream entry truncated")
            fields = [item for pair in zip(master_fields, values, strict=True) for item in pair]
            pos += nfields
        else:
            count = _lp_int(items[pos])
            fields = items[pos + 1:pos + 1 + 2 * count]
            if count < 1 or len(fields) != 2 * count:
                raise FormatError("stream entry truncated")
            pos += 1 + 2 * count
        if pos >= len(items) or _lp_int(items[pos]) != pos - start:
            raise FormatError("bad stream entry lp-count")
        pos += 1
        seen += 1
        if not flags & STREAM_ITEM_FLAG_DELETED:
            out.append(((ms, seq), fields))
    if len(out) != valid or seen != valid + deleted:
        raise FormatError("stream node counts mismatch")
    return out


def _u64_signed(n: int) -> int:
    return n - _U64 if n >= 1 << 63 else n


def _read_stream_object(r: Reader, version_2: bool) -> tuple[str, Value]:
    entries: list[tuple[tuple[int, int], list[bytes]]] = []
    for _ in range(r.length()):
        node_key = r.string()
        if len(node_key) != 16:
            raise FormatError("stream node key is not 16 bytes")
        node = _stream_node(_STREAM_ID.unpack(node_key), r.string())
        if entries and node and node[0][0] <= entries[-1][0]:
            raise FormatError("stream nodes out of order")
        entries += node
    ids = [sid for sid, _ in entries]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise FormatError("stream entries out of order")
    length = r.length()
    last = (r.length(), r.length())
    if length != len(entries) or (ids and ids[-1] > last):
        raise FormatError("stream length or last ID inconsistent")
    if version_2:
        r.length(), r.length()  # first ID: ledis finds the first entry itself
        max_deleted = (r.length(), r.length())
        added = r.length()
    else:  # as Redis 7.0 loads a type 15 stream
        max_deleted, added = (0, 0), length
    groups: list[dict] = []
    names: set[bytes] = set()
    for _ in range(r.length()):
        name = r.string()
        if name in names:
            raise FormatError("duplicate consumer group")
        names.add(name)
        group_last = (r.length(), r.length())
        if version_2:
            entries_read = _u64_signed(r.length())
        else:  # streamEstimateDistanceFromFirstEverEntry on a stream without tombstones
            entries_read = -1
            if not added or group_last == last or (not length and group_last <= last):
                entries_read = added
            elif group_last < last and ids and group_last <= ids[0]:
                entries_read = 0 if group_last < ids[0] else 1
        nacks: dict[tuple[int, int], list] = {}
        for _ in range(r.length()):
            sid = _STREAM_ID.unpack(r.take(16))
            if sid in nacks:
                raise FormatError("duplicate global PEL entry")
            nacks[sid] = [int.from_bytes(r.take(8), "little"), r.length(), None]
        consumers: list[tuple[bytes, int]] = []
        for _ in range(r.length()):
            consumer = r.string()
            seen = int.from_bytes(r.take(8), "little")
            if any(consumer == c for c, _ in consumers):
                raise FormatError("duplicate stream consumer")
            consumers.append((consumer, seen))
            for _ in range(r.length()):
                nack = nacks.get(_STREAM_ID.unpack(r.take(16)))
                if nack is None or nack[2] is not None:
                    raise FormatError("consumer PEL entry not in the group PEL or owned twice")
                nack[2] = consumer
        if any(nack[2] is None for nack in nacks.values()):
            raise FormatError("group PEL entry without a consumer")
        groups.append({"name": name, "last": group_last, "entries_read": entries_read,
                       "consumers": sorted(consumers),
                       "pending": [(sid, t, c, who) for sid, (t, c, who) in sorted(nacks.items())]})
    return "stream", {"entries": entries, "last": last, "added": added,
                      "max_deleted": max_deleted, "groups": sorted(groups, key=lambda g: g["name"])}


def read_stream(r: Reader) -> tuple[str, Value]:
    return _read_stream_object(r, False)


def read_stream_2(r: Reader) -> tuple[str, Value]:
    return _read_stream_object(r, True)


def _lp_int_entry(n: int) -> bytes:
    return _listpack_entry(b"%d" % n)


def write_stream(value: dict) -> tuple[int, bytes]:
    """RDB_TYPE_STREAM_LISTPACKS_2, nodes of up to 100 entries, each mastered by its first
    entry (entries with the master's fields written SAMEFIELDS, as XADD would)."""
    entries = value["entries"]
    out = [encode_length((len(entries) + _STREAM_NODE_ENTRIES - 1) // _STREAM_NODE_ENTRIES)]
    for i in range(0, len(entries), _STREAM_NODE_ENTRIES):
        chunk = entries[i:i + _STREAM_NODE_ENTRIES]
        master, first = chunk[0]
        master_fields = list(first[::2])
        lp = [_lp_int_entry(len(chunk)), _lp_int_entry(0), _lp_int_entry(len(master_fields))]
        lp += [_listpack_entry(f) for f in master_fields]
        lp.append(_lp_int_entry(0))
        for sid, fields in chunk:
            ms_diff = _u64_signed((sid[0] - master[0]) % _U64)
            seq_diff = _u64_signed((sid[1] - master[1]) % _U64)
            if list(fields[::2]) == master_fields:
                body = [_lp_int_entry(STREAM_ITEM_FLAG_SAMEFIELDS), _lp_int_entry(ms_diff),
                        _lp_int_entry(seq_diff)] + [_listpack_entry(v) for v in fields[1::2]]
            else:
                body = [_lp_int_entry(0), _lp_int_entry(ms_diff), _lp_int_entry(seq_diff),
                        _lp_int_entry(len(fields) // 2)] + [_listpack_entry(f) for f in fields]
            lp += body
            lp.append(_lp_int_entry(len(body)))
        out.append(encode_string(_STREAM_ID.pack(*master)))
        out.append(encode_string(listpack(lp)))
    first = entries[0][0] if entries else (0, 0)
    for n in (len(entries), *value["last"], *first, *value["max_deleted"], value["added"],
              len(value["groups"])):
        out.append(encode_length(n))
    for group in value["groups"]:
        out.append(encode_string(group["name"]))
        out += [encode_length(n) for n in group["last"]]
        out.append(encode_length(group["entries_read"] % _U64))
        pending = group["pending"]
        out.append(encode_length(len(pending)))
        owned: dict[bytes, list[bytes]] = {}
        for sid, delivery_ms, count, consumer in pending:
            raw_id = _STREAM_ID.pack(*sid)
            out += [raw_id, delivery_ms.to_bytes(8, "little"), encode_length(count)]
            owned.setdefault(consumer, []).append(raw_id)
        out.append(encode_length(len(group["consumers"])))
        for consumer, seen_ms in group["consumers"]:
            ids = owned.get(consumer, [])
            out += [encode_string(consumer), seen_ms.to_bytes(8, "little"),
                    encode_length(len(ids))] + ids
    return RDB_TYPE_STREAM_LISTPACKS_2, b"".join(out)
