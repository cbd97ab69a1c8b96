"""DUMP and RESTORE (Redis 7.0), in Redis's own payload format, so values move key by key
between ledis and Redis in both directions.

The payload codec is ``ledis.rdb`` (pure bytes <-> Python values); reading a whole value and
storing one goes through ``ledis.storage.values`` (the type modules' own API, one batch).

RESTORE follows Redis's ``restoreCommand`` step by step, so errors come in the same order:
options (REPLACE, ABSTTL, IDLETIME s, FREQ f: IDLETIME and FREQ exclude each other, as a
syntax error), BUSYKEY for a live key without REPLACE, the TTL (an integer >= 0), the payload
trailer ("payload version or checksum are wrong"), the payload itself ("Bad data format").
A TTL of 0 means no expiry; otherwise it is relative milliseconds, or with ABSTTL a Unix time
in milliseconds. A TTL already in the past does not create the key (with REPLACE the old value
is still deleted) and the reply is OK, as in Redis. IDLETIME and FREQ are validated and then
ignored: ledis tracks neither access times nor LFU counters (OBJECT IDLETIME / FREQ answer 0).
"""

from __future__ import annotations

from ledis import blocking, errors, rdb
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK
from ledis.storage import values
from ledis.storage.layout import now_ms

_LLONG_MAX = 2**63 - 1


@command("dump", arity=2, flags="readonly", keys=(1, 1, 1), group="generic",
         summary="Return a serialized version of the value stored at the specified key.",
         since="2.6.0",
         complexity=("O(1) to access the key and additional O(N*M) to serialize it, where N "
                     "is the number of Redis objects composing the value and M their average "
                     "size. For small string values the time complexity is thus O(1)+O(1*M) "
                     "where M is small, so simply O(1)."),
         acl="@keyspace @read @slow")
def cmd_dump(ctx, argv):
    found = values.read(ctx.db, argv[1])
    if found is None:
        return None
    return rdb.dumps(*found)


class RestoreOptions:
    """RESTORE's options after the payload, parsed as Redis does."""

    __slots__ = ("replace", "absttl", "idletime", "freq")

    def __init__(self, argv: list[bytes], start: int) -> None:
        self.replace = False
        self.absttl = False
        self.idletime = -1
        self.freq = -1
        args = ArgCursor(argv, start)
        while args:
            additional = args.remaining() - 1
            if args.eat(b"REPLACE"):
                self.replace = True
            elif args.eat(b"ABSTTL"):
                self.absttl = True
            elif additional >= 1 and self.freq == -1 and args.eat(b"IDLETIME"):
                self.idletime = args.take_int()
                if self.idletime < 0:
                    raise LedisError(errors.RESTORE_IDLETIME)
            elif additional >= 1 and self.idletime == -1 and args.eat(b"FREQ"):
                self.freq = args.take_int()
                if not 0 <= self.freq <= 255:
                    raise LedisError(errors.RESTORE_FREQ)
            else:
                raise LedisError(errors.SYNTAX)


def decode_payload(payload: bytes) -> tuple[str, object]:
    """``ledis.rdb.loads`` with Redis's error replies."""
    try:
        return rdb.loads(payload)
    except rdb.ChecksumError:
        raise LedisError(errors.DUMP_PAYLOAD) from None
    except rdb.FormatError:
        raise LedisError(errors.BAD_DATA_FORMAT) from None


@command("restore", arity=-4, flags="write denyoom", keys=(1, 1, 1), group="generic",
         summary="Create a key using the provided serialized value, previously obtained using "
                 "DUMP.",
         since="2.6.0",
         complexity=("O(1) to create the new key and additional O(N*M) to reconstruct the "
                     "serialized value, where N is the number of Redis objects composing the "
                     "value and M their average size. For small string values the time "
                     "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However"
                     " for sorted set values the complexity is O(N*M*log(N)) because inserting "
                     "values into sorted sets is O(log(N))."),
         acl="@keyspace @write @slow @dangerous")
def cmd_restore(ctx, argv):
    options = RestoreOptions(argv, 4)
    db = ctx.db
    key = argv[1]
    if not options.replace and db.lookup(key) is not None:
        raise LedisError(errors.BUSYKEY)
    ttl = parse_int(argv[2])
    if ttl < 0:
        raise LedisError(errors.RESTORE_TTL)
    kind, value = decode_payload(argv[3])
    now = now_ms()
    if ttl and not options.absttl:
        ttl += now
        if ttl > _LLONG_MAX:  # Redis's signed addition wraps to a time in the past
            ttl = -1
    if ttl and ttl <= now:  # already expired: the key is not created (but REPLACE deletes)
        if options.replace:
            db.delete(key)
        return OK
    values.write(db, key, kind, value, ttl)
    if kind in ("list", "zset"):
        blocking.key_ready(db, key)  # wake BLPOP / BZPOPMIN waiters, as Redis's dbAdd does
    return OK
