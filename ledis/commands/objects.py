"""OBJECT ENCODING / REFCOUNT / IDLETIME / FREQ / HELP.

ledis stores values its own way (``ledis.storage``), so OBJECT ENCODING answers what Redis 7.0
would report for a value of that size and shape, with the thresholds of Redis's
``*-max-listpack-*`` / ``set-max-intset-entries`` parameters (``Config.redis_int``); IDLETIME and
FREQ come from the access tracker (``ledis/access.py``).
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import Simple
from ledis.storage import layout
from ledis.storage.keyspace import Database
from ledis.storage.layout import DATA, U64

_LLONG_MAX = 2**63 - 1


# --- OBJECT --------------------------------------------------------------------------------------
_OBJECT_HELP = [
    b"OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"ENCODING <key>",
    b"    Return the kind of internal representation used in order to store the value",
    b"    associated with a <key>.",
    b"FREQ <key>",
    b"    Return the access frequency index of the <key>. The returned integer is",
    b"    proportional to the logarithm of the recent access frequency of the key.",
    b"IDLETIME <key>",
    b"    Return the idle time of the <key>, that is the approximated number of",
    b"    seconds elapsed since the last access to the key.",
    b"REFCOUNT <key>",
    b"    Return the number of references of the value associated with the specified",
    b"    <key>.",
    b"HELP",
    b"    Prints this help.",
]


def is_int_string(value: bytes) -> bool:
    if len(value) > 20:
        return False
    try:
        parse_int(value)
    except LedisError:
        return False
    return True


def _sub_keys(db: Database, key: bytes, raw: bytes, limit: int):
    prefix = layout.sub_prefix(db.index, U64.unpack_from(raw, 9)[0])
    n = len(prefix)
    for i, (k, v) in enumerate(db.engine.iterate(DATA, prefix, layout.prefix_end(prefix))):
        if i >= limit:
            return
        yield k[n:], v


def encoding_of(ctx, db: Database, key: bytes, raw: bytes) -> bytes:
    """What Redis 7.0 would report for this value (by its size and shape)."""
    kind = raw[0]
    if kind == layout.STRING:
        value = raw[9:]
        if is_int_string(value):
            return b"int"
        return b"embstr" if len(value) <= 44 else b"raw"
    if kind == layout.LIST:
        return b"quicklist"  # Redis 7.0 lists are always quicklists
    if kind == layout.STREAM:
        return b"stream"
    size = U64.unpack_from(raw, 17)[0]
    if kind == layout.SET:
        if size > ctx.core.config.redis_int("set-max-intset-entries"):
            return b"hashtable"
        for member, _ in _sub_keys(db, key, raw, size):
            if not is_int_string(member):
                return b"hashtable"
        return b"intset"
    if kind in (layout.HASH, layout.ZSET):
        big, compact = (b"hashtable", b"listpack") if kind == layout.HASH else (
            b"skiplist", b"listpack")
        family = "hash" if kind == layout.HASH else "zset"
        if size > ctx.core.config.redis_int(f"{family}-max-listpack-entries"):
            return big
        max_value = ctx.core.config.redis_int(f"{family}-max-listpack-value")
        for sub, value in _sub_keys(db, key, raw, size):
            if len(sub) > max_value or (kind == layout.HASH and len(value) > max_value):
                return big
        return compact
    return b"raw"


def _object_lookup(ctx, argv) -> bytes | None:
    return ctx.db.read(argv[2], notify=False)  # counted, no keymiss: Redis's NONOTIFY


@command("object|encoding", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         summary="Inspect the internal encoding of a Redis object",
         since="2.2.3",
         complexity="O(1)",
         acl="@keyspace @read @slow")
def cmd_object_encoding(ctx, argv):
    raw = _object_lookup(ctx, argv)
    if raw is None:
        return None
    return encoding_of(ctx, ctx.db, argv[2], raw)


@command("object|refcount", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         summary="Get the number of references to the value of the key",
         since="2.2.3",
         complexity="O(1)",
         acl="@keyspace @read @slow")
def cmd_object_refcount(ctx, argv):
    raw = _object_lookup(ctx, argv)
    if raw is None:
        return None
    if raw[0] == layout.STRING and is_int_string(raw[9:]) and 0 <= int(raw[9:]) < 10000:
        return 2147483647  # Redis's shared integer objects
    return 1


@command("object|idletime", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         summary="Get the time since a Redis object was last accessed",
         since="2.2.3",
         complexity="O(1)",
         acl="@keyspace @read @slow")
def cmd_object_idletime(ctx, argv):
    raw = _object_lookup(ctx, argv)
    if raw is None:
        return None
    if "lfu" in ctx.core.config.redis_text("maxmemory-policy"):
        raise LedisError(errors.OBJECT_IDLE_LFU)
    return ctx.core.access.idle_seconds(ctx.db.index, argv[2])  # ledis/access.py


@command("object|freq", arity=3, flags="readonly", keys=(2, 2, 1), group="generic",
         summary="Get the logarithmic access frequency counter of a Redis object",
         since="4.0.0",
         complexity="O(1)",
         acl="@keyspace @read @slow")
def cmd_object_freq(ctx, argv):
    raw = _object_lookup(ctx, argv)
    if raw is None:
        return None
    if "lfu" not in ctx.core.config.redis_text("maxmemory-policy"):
        raise LedisError(errors.OBJECT_FREQ_NOT_LFU)
    return ctx.core.access.frequency(ctx.db.index, argv[2])  # ledis/access.py


@command("object|help", arity=2, flags="loading stale", keys=(0, 0, 0), group="generic",
         summary="Show helpful text about the different subcommands",
         since="6.2.0",
         complexity="O(1)",
         acl="@keyspace @slow")
def cmd_object_help(ctx, argv):
    return [Simple(line) for line in _OBJECT_HELP]
