"""DEBUG: Redis's debugging container, behind ``enable-debug-command`` as in Redis 7.0; and
MODULE, whose LOAD / LOADEX / UNLOAD sit behind ``enable-module-command`` the same way (Redis's
protected commands). ledis loads no Redis modules: MODULE LIST is empty, and an allowed LOAD
fails as Redis's does for a file it cannot load.

With the default ``no`` every DEBUG call is refused with Redis's text, before AUTH and the ACL
are looked at (``protected_refusal``, called by the dispatcher's slow path and by the handler);
``local`` allows it from loopback connections, ``yes`` from any. The subcommands a test suite
or a client developer reaches for are here, each answering as Redis 7.0 does:

* ``DIGEST`` / ``DIGEST-VALUE``: Redis's SHA1 mix of the dataset (``computeDatasetDigest``,
  ``xorObjectDigest``), byte for byte, so a dataset moved between Redis and ledis (``ledis
  load``, MIGRATE) can be compared by one command on each side;
* ``PROTOCOL <type>``: each RESP2 / RESP3 reply type, for client tests;
* ``SLEEP``, ``SET-ACTIVE-EXPIRE``, ``OBJECT``, ``POPULATE``, ``ERROR``, ``LOG``, ``RELOAD``.

Redis's crash, allocator and encoding internals (SEGFAULT, MALLCTL, LISTPACK, QUICKLIST ...)
have no meaning here: they answer Redis's unknown-subcommand error, and HELP lists only what
ledis has.
"""

from __future__ import annotations

import hashlib
import logging
import re
import struct
import time
from typing import Any

from ledis import errors, rdb
from ledis.commands.args import c_atoi, parse_positive
from ledis.commands.objects import encoding_of, is_int_string
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Bool, Double, Map, Multiple, Push, Raw, SetReply, Simple, Verbatim
from ledis.storage import layout, values
from ledis.storage.layout import META
from ledis.storage.types import string

log = logging.getLogger("ledis.debug")

_HELP = [
    b"DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"DIGEST",
    b"    Output a hex signature representing the current DB content.",
    b"DIGEST-VALUE <key> [<key> ...]",
    b"    Output a hex signature of the values of all the specified keys.",
    b"ERROR <string>",
    b"    Return a Redis protocol error with <string> as message. Useful for clients",
    b"    unit tests to simulate Redis errors.",
    b"LOG <message>",
    b"    Write <message> to the server log.",
    b"OBJECT <key>",
    b"    Show low level info about `key` and associated value.",
    b"POPULATE <count> [<prefix>] [<size>]",
    b"    Create <count> string keys named key:<num>. If <prefix> is specified then",
    b"    it is used instead of the 'key' prefix.",
    b"PROTOCOL <type>",
    b"    Reply with a test value of the specified type. <type> can be: string,",
    b"    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
    b"    true, false.",
    b"RELOAD [option ...]",
    b"    Commit every pending write and drop the read caches: the next reads come from",
    b"    the store on disk (ledis keeps no RDB to save and load back).",
    b"SET-ACTIVE-EXPIRE <0|1>",
    b"    Setting it to 0 disables expiring keys in background when they are not",
    b"    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
    b"    default.",
    b"SLEEP <seconds>",
    b"    Stop the server for <seconds>. Decimals allowed.",
    b"HELP",
    b"    Prints this help.",
]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


def _allowed(ctx, option: str) -> bool:
    """Redis's ``allowProtectedAction``: ``yes``, or ``local`` and a loopback client."""
    setting = ctx.core.config.redis_text(option)
    if setting == "yes":
        return True
    if setting != "local":
        return False
    host = ctx.addr.rsplit(":", 1)[0].strip("[]") if ctx.addr else ""
    return host in _LOOPBACK


def _gate(shown: str, option: str):
    """The refusal function of a protected command (Redis's CMD_PROTECTED): the error for a
    client ``option`` does not allow, or None."""
    def refusal(ctx) -> LedisError | None:
        if _allowed(ctx, option):
            return None
        return LedisError(errors.PROTECTED_COMMAND.format(shown, option))
    return refusal


protected_refusal = _gate("DEBUG", "enable-debug-command")
module_refusal = _gate("MODULE", "enable-module-command")  # LOAD, LOADEX, UNLOAD


def install(core) -> None:
    """The composition root's registration: the dispatcher's slow path refuses the protected
    commands before AUTH and the ACL, as Redis's processCommand."""
    core.protected["debug"] = protected_refusal
    for name in ("module|load", "module|loadex", "module|unload"):
        core.protected[name] = module_refusal


# --- the digest: Redis's debug.c, byte for byte -------------------------------------------
def _xor(digest: bytearray, data: bytes) -> None:
    for i, byte in enumerate(hashlib.sha1(data).digest()):
        digest[i] ^= byte


def _mix(digest: bytearray, data: bytes) -> None:
    _xor(digest, data)
    digest[:] = hashlib.sha1(bytes(digest)).digest()


_TYPE_CODES = {"string": 0, "list": 1, "set": 2, "zset": 3, "hash": 4, "stream": 6}
_U32 = struct.Struct(">I")


def _value_digest(digest: bytearray, kind: str, value: Any, expires: bool) -> None:
    """``xorObjectDigest``: the type, the value, and the expiry's marker."""
    _mix(digest, _U32.pack(_TYPE_CODES[kind]))
    if kind == "string":
        _mix(digest, value)
    elif kind == "list":
        for element in value:
            _mix(digest, element)
    elif kind == "set":
        for member in value:
            _xor(digest, member)
    elif kind in ("zset", "hash"):
        for first, second in value:
            element = bytearray(20)
            _mix(element, first)
            _mix(element, b"%.17g" % second if kind == "zset" else second)
            _xor(digest, bytes(element))
    else:  # stream: its entries, not its consumer groups
        for (ms, seq), fields in value["entries"]:
            _mix(digest, b"%d.%d" % (ms, seq))
            for field in fields:
                _mix(digest, field)
    if expires:
        _xor(digest, b"!!expire!!")


def _key_digest(db, key: bytes, raw: bytes, named: bool = False) -> bytes:
    """The digest of one key's value (DIGEST-VALUE); ``named``: the key's name mixed in
    first, as DIGEST does."""
    digest = bytearray(20)
    if named:
        _mix(digest, key)
    kind, value = values.of(db, key, raw)
    _value_digest(digest, kind, value, values.expire_of(raw) != 0)
    return bytes(digest)


def _dataset_digest(core) -> bytes:
    """``computeDatasetDigest``: every database by number, each key's digest xored in."""
    final = bytearray(20)
    for number, db in enumerate(core.store.dbs):
        n = len(db.prefix)
        first = True
        for meta_key, raw in db.engine.iterate(META, db.prefix, layout.prefix_end(db.prefix)):
            if first:
                _mix(final, _U32.pack(number))
                first = False
            _xor(final, _key_digest(db, meta_key[n:], raw, named=True))
    return bytes(final)


# --- the other subcommands -----------------------------------------------------------------
_STRTOD_PREFIX = re.compile(rb"\s*[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


def _seconds(raw: bytes) -> float:
    """C's ``strtod(s, NULL)``: the leading number, 0 when there is none."""
    match = _STRTOD_PREFIX.match(raw)
    return float(match.group(0)) if match else 0.0


def _protocol(ctx, kind: bytes) -> Any:
    resp3 = ctx.resp == 3
    if kind == b"string":
        return b"Hello World"
    if kind == b"integer":
        return 12345
    if kind == b"double":
        return Double(3.141)
    if kind == b"bignum":
        number = b"1234567999999999999999999999999999999"
        return Raw(b"(%s\r\n" % number) if resp3 else number
    if kind == b"null":
        return None
    if kind == b"array":
        return [0, 1, 2]
    if kind == b"set":
        return SetReply([0, 1, 2])
    if kind == b"map":
        return Map({0: Bool(False), 1: Bool(True), 2: Bool(False)})
    if kind == b"attrib":
        text = b"Some real reply following the attribute"
        if not resp3:
            return text
        return Raw(b"|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n"
                   b"$%d\r\n%s\r\n" % (len(text), text))
    if kind == b"push":
        if not resp3:
            raise LedisError(errors.DEBUG_PUSH_RESP2)
        return Multiple([Push([b"server-cpu-usage", 42]),
                         b"Some real reply following the push reply"])
    if kind == b"verbatim":
        return Verbatim(b"This is a verbatim\nstring")
    if kind == b"true":
        return Bool(True)
    if kind == b"false":
        return Bool(False)
    raise LedisError(errors.DEBUG_PROTOCOL_TYPE)


def _object(ctx, key: bytes) -> Simple:
    """DEBUG OBJECT: the key found physically (expired or not, no keyspace counting), as
    Redis's ``dictFind``."""

    db = ctx.db
    raw = db.raw(key)
    if raw is None:
        raise LedisError(errors.NO_SUCH_KEY)
    kind, value = values.of(db, key, raw)
    serialized = len(rdb.dumps(kind, value)) - 11  # without type byte, version and CRC
    encoding = encoding_of(ctx, db, key, raw)
    idle = ctx.core.access.idle_seconds(db.index, key)
    shared = kind == "string" and is_int_string(value) and 0 <= int(value) < 10000
    line = (b"Value at:0x%x refcount:%d encoding:%s serializedlength:%d lru:%d "
            b"lru_seconds_idle:%d" % (id(raw), 2147483647 if shared else 1, encoding,
                                      serialized, int(time.time()) & 0xFFFFFF, idle))
    if kind == "list":  # the quicklist Redis 7.0 would build: listpack nodes up to the fill
        config = ctx.core.config
        fill = config.redis_int("list-max-listpack-size")
        nodes = [len(node) for node in rdb.quicklist_nodes(value, fill)] or [7]
        line += b" ql_nodes:%d ql_avg_node:%.2f ql_listpack_max:%d ql_compressed:%d " \
                b"ql_uncompressed_size:%d" % (
                    len(nodes), len(value) / len(nodes), fill,
                    int(config.redis_int("list-compress-depth") != 0), sum(nodes))
    return Simple(line)


def _populate(ctx, argv: list[bytes]) -> Simple:
    count = parse_positive(argv[2])
    prefix = argv[3] if len(argv) > 3 else b"key"
    size = parse_positive(argv[4]) if len(argv) > 4 else 0
    db = ctx.db
    for i in range(count):
        key = b"%s:%d" % (prefix, i)
        old = db.raw(key)
        if db.is_live(old):
            continue
        value = b"value:%d" % i
        if size:
            value = value[:size].ljust(size, b"\0")
        db.replace(key, string.encode(value), old)
    return OK


@command("debug", arity=-2, flags="admin noscript loading stale", group="server",
         summary="A container for debugging commands", since="1.0.0",
         acl="@admin @slow @dangerous")
def cmd_debug(ctx, argv):
    refusal = protected_refusal(ctx)
    if refusal is not None:
        raise refusal
    sub = argv[1].upper()
    n = len(argv)
    if sub == b"HELP" and n == 2:
        return [Simple(line) for line in _HELP]
    if sub == b"DIGEST" and n == 2:
        return Simple(_dataset_digest(ctx.core).hex().encode())
    if sub == b"DIGEST-VALUE" and n >= 2:
        out = []
        for key in argv[2:]:
            raw = ctx.db.read(key)  # Redis: lookupKeyReadWithFlags, counted
            digest = bytes(20) if raw is None else _key_digest(ctx.db, key, raw)
            out.append(Simple(digest.hex().encode()))
        return out
    if sub == b"PROTOCOL" and n == 3:
        return _protocol(ctx, argv[2].lower())
    if sub == b"SLEEP" and n == 3:
        time.sleep(_seconds(argv[2]))  # the whole server stops, as Redis's
        return OK
    if sub == b"SET-ACTIVE-EXPIRE" and n == 3:
        ctx.core.active_expire = c_atoi(argv[2]) != 0
        return OK
    if sub == b"OBJECT" and n == 3:
        return _object(ctx, argv[2])
    if sub == b"POPULATE" and 3 <= n <= 5:
        return _populate(ctx, argv)
    if sub == b"ERROR" and n == 3:
        raise LedisError(argv[2].decode("utf-8", "replace").replace("\r", " ")
                         .replace("\n", " "))
    if sub == b"LOG" and n == 3:
        log.warning("DEBUG LOG: %s", argv[2].decode("utf-8", "replace"))
        return OK
    if sub == b"RELOAD":
        ctx.core.engine.commit()
        ctx.core.engine.clear_cache()
        return OK
    raise LedisError(errors.DEBUG_SUBCOMMAND.format(argv[1].decode("utf-8", "replace")))


# --- MODULE --------------------------------------------------------------------------------
_MODULE_HELP = [
    b"MODULE <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"LIST",
    b"    Return a list of loaded modules.",
    b"LOAD <path> [<arg> ...]",
    b"    Load a module library from <path>, passing to it any optional arguments.",
    b"LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    b"    Load a module library from <path>, while passing it module configurations and "
    b"optional arguments.",
    b"UNLOAD <name>",
    b"    Unload a module.",
    b"HELP",
    b"    Prints this help.",
]


@command("module|list", arity=2, flags="admin noscript", group="server",
         summary="List all modules loaded by the server", since="4.0.0",
         acl="@admin @slow @dangerous")
def cmd_module_list(ctx, argv):
    return []  # ledis loads no Redis modules


def _load(ctx, argv):
    refusal = module_refusal(ctx)
    if refusal is not None:
        raise refusal
    log.warning("MODULE %s %r: ledis does not load Redis modules",
                argv[1].decode("utf-8", "replace").upper(), argv[2][:256])
    raise LedisError(errors.MODULE_LOAD)


@command("module|load", arity=-3, flags="admin noscript no_async_loading", group="server",
         summary="Load a module", since="4.0.0", acl="@admin @slow @dangerous")
def cmd_module_load(ctx, argv):
    return _load(ctx, argv)


@command("module|loadex", arity=-3, flags="admin noscript no_async_loading", group="server",
         summary="Load a module with extended parameters", since="7.0.0",
         acl="@admin @slow @dangerous")
def cmd_module_loadex(ctx, argv):
    return _load(ctx, argv)


@command("module|unload", arity=3, flags="admin noscript no_async_loading", group="server",
         summary="Unload a module", since="4.0.0", acl="@admin @slow @dangerous")
def cmd_module_unload(ctx, argv):
    refusal = module_refusal(ctx)
    if refusal is not None:
        raise refusal
    raise LedisError(errors.MODULE_UNLOAD)


@command("module|help", arity=2, flags="loading stale", group="server",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         acl="@slow")
def cmd_module_help(ctx, argv):
    return [Simple(line) for line in _MODULE_HELP]

