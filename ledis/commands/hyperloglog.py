"""HyperLogLog commands: PFADD, PFCOUNT, PFMERGE (Redis 7.0). PFDEBUG and PFSELFTEST are
left out (debugging aids of Redis's C code).

A HyperLogLog is a string value in Redis's own format, so everything here is: load the
string through ``ledis.storage.types.string`` (WRONGTYPE for other types), check the HLL
header (``WRONGTYPE Key is not a valid HyperLogLog string value.``), run the pure algorithm
in ``ledis.storage.types.hll`` and store the new bytes, keeping the key's TTL as Redis does
when it modifies a value in place.

PFCOUNT of one key caches the cardinality in the value's header, like Redis (it is flagged
``readonly`` but writes); a read-only replica skips that write, since its data must stay
the master's, and answers the same count.
"""

from __future__ import annotations

from ledis.commands.registry import command
from ledis.replies import OK
from ledis.storage.types import hll, string


def _sparse_max_bytes(ctx) -> int:
    """``hll-sparse-max-bytes`` (CONFIG SET stores it among the extra parameters)."""
    return ctx.core.config.redis_int("hll-sparse-max-bytes")


def _load(db, key: bytes, read: bool = False) -> tuple[bytes | None, bytes | None, int]:
    """``(physical raw, HLL value or None, expire_ms)``; WRONGTYPE for a non-HLL value.
    ``read``: counted as a keyspace hit or miss (PFCOUNT's keys, PFMERGE's inputs)."""
    raw, value, expire = string.load(db, key, read)
    if value is not None:
        hll.check(value)
    return raw, value, expire


@command("pfadd", arity=-2, flags="write denyoom fast", keys=(1, 1, 1), group="hyperloglog",
         summary="Adds the specified elements to the specified HyperLogLog.", since="2.8.9",
         complexity="O(1) to add every element.", acl="@write @hyperloglog @fast")
def cmd_pfadd(ctx, argv):
    db = ctx.db
    key = argv[1]
    raw, value, expire = _load(db, key)
    new, changed = hll.add(value, argv[2:], _sparse_max_bytes(ctx))
    if not changed:
        return 0
    string.store(db, key, new, expire, raw)
    return 1


@command("pfcount", arity=-2, flags="readonly may_replicate", keys=(1, -1, 1),
         group="hyperloglog",
         summary=("Return the approximated cardinality of the set(s) observed by the "
                  "HyperLogLog at key(s)."),
         since="2.8.9",
         complexity=("O(1) with a very small average constant time when called with a single "
                     "key. O(N) with N being the number of keys, and much bigger constant "
                     "times, when called with multiple keys."),
         acl="@read @hyperloglog @slow")
def cmd_pfcount(ctx, argv):
    db = ctx.db
    if len(argv) > 2:  # the cardinality of the union, never cached
        union = bytearray(hll.REGISTERS)
        for key in argv[1:]:
            _, value, _ = _load(db, key, True)
            if value is not None:
                hll.merge_max(union, hll.registers(value))
        return hll.count_registers(bytes(union))
    raw, value, expire = _load(db, argv[1], True)
    if value is None:
        return 0
    card, cached = hll.count(value)
    if cached is not None and not ctx.core.replication.is_replica:
        string.store(db, argv[1], cached, expire, raw)
    return card


@command("pfmerge", arity=-2, flags="write denyoom", keys=(1, -1, 1), group="hyperloglog",
         summary="Merge N different HyperLogLogs into a single one.", since="2.8.9",
         complexity="O(N) to merge N HyperLogLogs, but with high constant times.",
         acl="@write @hyperloglog @slow")
def cmd_pfmerge(ctx, argv):
    db = ctx.db
    union = bytearray(hll.REGISTERS)
    use_dense = False
    for key in argv[1:]:  # the destination is one of the inputs, as in Redis
        _, value, _ = _load(db, key, True)
        if value is not None:
            use_dense = use_dense or value[4] == hll.DENSE
            hll.merge_max(union, hll.registers(value))
    raw, value, expire = _load(db, argv[1])
    new = hll.merge(value, bytes(union), use_dense, _sparse_max_bytes(ctx))
    string.store(db, argv[1], new, expire, raw)
    return OK
