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

MIGRATE is Redis's ``migrateCommand`` over a plain blocking socket with the command's timeout:
it sends AUTH / SELECT and one RESTORE (TTL = time left) per live key in one write, reads the
replies line by line, and deletes each key the target accepted unless COPY. Like Redis it
blocks the server while it talks to the target (so migrating to this very server times out).
Differences: no cached connection (every call connects and SELECTs afresh), no retry, and the
KEYS variant's keys are not known to COMMAND GETKEYS / WATCH (the registry declares key 3).
"""

from __future__ import annotations

import socket

from ledis import blocking, errors, rdb
from ledis.commands.args import ArgCursor, c_atoi, parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError, error
from ledis.replies import OK, Simple
from ledis.resp import pack_request
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
    if kind in ("list", "zset", "stream"):
        # wake BLPOP / BZPOPMIN / XREAD waiters, as Redis's dbAdd does
        blocking.key_ready(db, key)
    return OK


# --- MIGRATE ---------------------------------------------------------------------------------
class MigrateOptions:
    """MIGRATE's options after the timeout, parsed as Redis does."""

    __slots__ = ("copy", "replace", "username", "password", "keys")

    def __init__(self, argv: list[bytes]) -> None:
        self.copy = False
        self.replace = False
        self.username: bytes | None = None
        self.password: bytes | None = None
        self.keys = [argv[3]]
        args = ArgCursor(argv, 6)
        while args:
            word = args.word()
            if word == b"COPY":
                self.copy = True
            elif word == b"REPLACE":
                self.replace = True
            elif word == b"AUTH":
                self.password = args.take()  # a missing password is a syntax error
            elif word == b"AUTH2":
                if args.remaining() < 2:
                    raise LedisError(errors.SYNTAX)
                self.username, self.password = args.take(), args.take()
            elif word == b"KEYS":
                if argv[3]:
                    raise LedisError(errors.MIGRATE_KEYS_EMPTY)
                self.keys = args.rest()
                break
            else:
                raise LedisError(errors.SYNTAX)


@command("migrate", arity=-6, flags="write movablekeys", keys=(3, 3, 1), group="generic",
         summary="Atomically transfer a key from a Redis instance to another one.",
         since="2.6.0",
         complexity=("This command actually executes a DUMP+DEL in the source instance, and a "
                     "RESTORE in the target instance. See the pages of these commands for time "
                     "complexity. Also an O(N) data transfer between the two instances is "
                     "performed."),
         acl="@keyspace @write @slow @dangerous")
def cmd_migrate(ctx, argv):
    options = MigrateOptions(argv)
    timeout = parse_int(argv[5])
    dbid = parse_int(argv[4])
    if timeout <= 0:
        timeout = 1000
    db = ctx.db
    now = now_ms()
    requests = []
    if options.password is not None:
        auth = [options.username] if options.username is not None else []
        requests.append(pack_request([b"AUTH", *auth, options.password]))
    requests.append(pack_request([b"SELECT", b"%d" % dbid]))
    moved = []
    for key in options.keys:
        raw = db.read(key)  # Redis's lookupKeyRead: counted
        if raw is None:
            continue
        expire = values.expire_of(raw)
        ttl = max(expire - now, 1) if expire else 0
        found = values.of(db, key, raw)
        words = [b"RESTORE", key, b"%d" % ttl, rdb.dumps(*found)]
        if options.replace:
            words.append(b"REPLACE")
        requests.append(pack_request(words))
        moved.append(key)
    if not moved:
        return Simple(b"NOKEY")
    replies = _exchange(argv[1], c_atoi(argv[2]), b"".join(requests), len(requests), timeout)
    head_count = len(requests) - len(moved)  # AUTH and/or SELECT
    if len(replies) < head_count:
        raise error(errors.MIGRATE_IO, "reading")
    head_failed = next((line for line in replies[:head_count] if line[:1] == b"-"), None)
    failed = head_failed
    # not strict: _exchange returns at least one reply per request, and may return more
    for key, line in zip(moved, replies[head_count:], strict=False):
        # As Redis: every key the target accepted is deleted, even after another key failed;
        # the reply names the first error.
        if head_failed is not None or line[:1] == b"-":
            failed = failed or line
        elif not options.copy:
            db.delete(key)
    if failed is not None:
        raise error(errors.MIGRATE_TARGET, failed[1:].decode("utf-8", "replace"))
    if len(replies) < len(requests):  # the target went away after accepting some keys
        raise error(errors.MIGRATE_IO, "reading")
    return OK


def _exchange(host: bytes, port: int, request: bytes, count: int, timeout_ms: int
              ) -> list[bytes]:
    """Send ``request`` and read up to ``count`` reply lines (each a status or an error: the
    replies of AUTH, SELECT and RESTORE). Fewer lines when the target closed or timed out
    after the first; IOERR when nothing at all could be exchanged."""
    seconds = timeout_ms / 1000
    try:
        conn = socket.create_connection((host.decode("utf-8", "replace"), port), seconds)
    except TimeoutError:
        raise LedisError(errors.MIGRATE_CONNECT) from None
    except (OSError, ValueError, OverflowError):
        # Redis connects without blocking, so a refused connection shows up at the write.
        raise error(errors.MIGRATE_IO, "writing") from None
    lines: list[bytes] = []
    with conn:
        conn.settimeout(seconds)
        try:
            conn.sendall(request)
        except OSError:
            raise error(errors.MIGRATE_IO, "writing") from None
        reader = conn.makefile("rb")
        try:
            while len(lines) < count:
                line = reader.readline(1024 * 1024)
                if not line.endswith(b"\n"):
                    break
                lines.append(line.rstrip(b"\r\n"))
        except OSError:
            pass
        finally:
            reader.close()
    if not lines:
        raise error(errors.MIGRATE_IO, "reading")
    return lines
