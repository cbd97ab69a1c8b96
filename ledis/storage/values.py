"""A whole value of any type as plain Python data, read and written through the type modules.

DUMP / RESTORE (``ledis.commands.serialize``) and MIGRATE move values key by key; they need
"everything this key holds" and "make this key hold exactly that", whatever the type. The
shapes are those of ``ledis.rdb``:

=========  ===================================
kind       value
=========  ===================================
string     ``bytes``
list       ``list[bytes]`` (head first)
set        ``list[bytes]`` (distinct)
zset       ``list[tuple[bytes, float]]``
hash       ``list[tuple[bytes, bytes]]``
stream     ``dict``: entries, last ID, entries added, max deleted ID and consumer groups, as
           ``ledis.storage.types.stream.state`` returns and ``stream.restore`` takes
=========  ===================================

:data:`READERS` (by layout type code) and :data:`WRITERS` (by kind) are the dispatch tables; a
new type adds one entry to each. Writers go through the same storage API as the type's own
commands (``set.store``, ``zset.store``, ``hash.set_many``, ``list.push``, ``stream.restore``,
also used by ``ledis load``), so a
restored value is stored exactly as if it had been built by commands, in the command's batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ledis.storage import layout
from ledis.storage.keyspace import Database
from ledis.storage.layout import U64
from ledis.storage.types import hash as hashes
from ledis.storage.types import list as lists
from ledis.storage.types import set as sets
from ledis.storage.types import stream as streams
from ledis.storage.types import string as strings
from ledis.storage.types import zset as zsets

KIND_OF = {layout.STRING: "string", layout.HASH: "hash", layout.LIST: "list",
           layout.SET: "set", layout.ZSET: "zset", layout.STREAM: "stream"}


def _read_string(db: Database, key: bytes, raw: bytes) -> Any:
    return raw[9:]


def _read_hash(db: Database, key: bytes, raw: bytes) -> Any:
    return hashes.pairs(db, key, raw)


def _read_list(db: Database, key: bytes, raw: bytes) -> Any:
    meta = lists.ListMeta(db, key, raw)
    return lists.read(db, meta, 0, meta.size - 1) if meta.size else []


def _read_set(db: Database, key: bytes, raw: bytes) -> Any:
    return hashes.subs(db, key, raw)


def _read_zset(db: Database, key: bytes, raw: bytes) -> Any:
    return [(member, zsets.decode_score(score)) for member, score in hashes.pairs(db, key, raw)]


def _read_stream(db: Database, key: bytes, raw: bytes) -> Any:
    return streams.state(db, streams.Stream(db, key, raw))


READERS: dict[int, Callable[[Database, bytes, bytes], Any]] = {
    layout.STRING: _read_string,
    layout.HASH: _read_hash,
    layout.LIST: _read_list,
    layout.SET: _read_set,
    layout.ZSET: _read_zset,
    layout.STREAM: _read_stream,
}


def expire_of(raw: bytes) -> int:
    """The absolute expiry (ms, 0 for none) in a key's metadata."""
    return U64.unpack_from(raw, 1)[0]


def read(db: Database, key: bytes) -> tuple[str, Any] | None:
    """``(kind, value)`` of a live key, None when it is missing or expired (a read: counted as
    a keyspace hit or miss, ``Database.read``)."""
    raw = db.read(key)
    return None if raw is None else of(db, key, raw)


def of(db: Database, key: bytes, raw: bytes) -> tuple[str, Any]:
    """``(kind, value)`` of the key of live metadata ``raw``."""
    return KIND_OF[raw[0]], READERS[raw[0]](db, key, raw)


# Writers store a value under a key known to be absent (write() removed it first).
def _write_string(db: Database, key: bytes, value: Any, expire_ms: int) -> None:
    db.replace(key, strings.encode(value, expire_ms), None)


def _write_hash(db: Database, key: bytes, value: Any, expire_ms: int) -> None:
    flat = [item for pair in value for item in pair]
    hashes.set_many(db, key, flat, 0)


def _write_list(db: Database, key: bytes, value: Any, expire_ms: int) -> None:
    lists.push(db, key, value, left=False)


def _write_set(db: Database, key: bytes, value: Any, expire_ms: int) -> None:
    sets.store(db, key, value)


def _write_zset(db: Database, key: bytes, value: Any, expire_ms: int) -> None:
    zsets.store(db, key, value)


def _write_stream(db: Database, key: bytes, value: Any, expire_ms: int) -> None:
    streams.restore(db, key, value)


WRITERS: dict[str, Callable[[Database, bytes, Any, int], None]] = {
    "string": _write_string,
    "hash": _write_hash,
    "list": _write_list,
    "set": _write_set,
    "zset": _write_zset,
    "stream": _write_stream,
}


def write(db: Database, key: bytes, kind: str, value: Any, expire_ms: int = 0) -> None:
    """Make ``key`` hold exactly ``value`` (any previous value of any type is dropped) with
    the absolute expiry ``expire_ms`` (0: none). ``value`` must be non-empty with distinct
    members / fields (``ledis.rdb`` guarantees both)."""
    old = db.raw(key)
    if old is not None:
        db.remove(key, old)
    WRITERS[kind](db, key, value, expire_ms)
    if expire_ms and kind != "string":
        raw = db.raw(key)
        if raw is not None and U64.unpack_from(raw, 1)[0] != expire_ms:
            db.set_expire(key, raw, expire_ms)
