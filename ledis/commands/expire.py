"""The EXPIRE family: EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, TTL, PTTL, EXPIRETIME, PEXPIRETIME,
PERSIST.

An expiry is the absolute time in ms in every key's metadata (``ledis.storage.layout``; 0 = none),
so these commands read and write one metadata record and never look inside a value.

**Expiry** follows Redis 7.0: options NX/XX/GT/LT, overflow checks with the command's name in
the error, and a time already in the past deletes the key (reply 1).
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError, error
from ledis.storage.layout import U64, now_ms

_LLONG_MAX = 2**63 - 1


# --- expiry ------------------------------------------------------------------------------------
def _expire_generic(ctx, argv, base_ms: int, unit_ms: int, now: int) -> int:
    """EXPIRE/PEXPIRE/EXPIREAT/PEXPIREAT (``base_ms`` is ``now`` for the relative forms)."""
    if len(argv) == 3:  # no option, the usual call: nothing to read or judge
        nx = xx = gt = lt = False
    else:
        # Redis reads every option before judging combinations; an unknown word is named back.
        options = {b"NX": False, b"XX": False, b"GT": False, b"LT": False}
        args = ArgCursor(argv, 3)
        while args:
            raw = args.take()
            if raw.upper() not in options:
                raise error(errors.EXPIRE_UNSUPPORTED, raw.decode("utf-8", "replace"))
            options[raw.upper()] = True
        nx, xx, gt, lt = options.values()
        if nx and (xx or gt or lt):
            raise LedisError(errors.EXPIRE_OPTIONS)
        if gt and lt:
            raise LedisError(errors.EXPIRE_GT_LT)
    when = parse_int(argv[2])
    if unit_ms == 1000:
        if when > _LLONG_MAX // 1000 or when < -(_LLONG_MAX // 1000):
            raise error(errors.INVALID_EXPIRE, argv[0].decode().lower())
        when *= 1000
    if when > _LLONG_MAX - base_ms:
        raise error(errors.INVALID_EXPIRE, argv[0].decode().lower())
    when += base_ms

    db = ctx.db
    key = argv[1]
    raw = db.lookup(key)
    if raw is None:
        return 0
    current = U64.unpack_from(raw, 1)[0]  # 0 = no expiry ("-1" in Redis's terms)
    if nx and current:
        return 0
    if xx and not current:
        return 0
    if gt and (not current or when <= current):
        return 0
    if lt and current and when >= current:
        return 0
    if when <= now:
        db.remove(key, raw)
    else:
        db.set_expire(key, raw, when)
    return 1


@command("expire", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Set a key's time to live in seconds",
         since="1.0.0",
         complexity="O(1)",
         acl="@keyspace @write @fast")
def cmd_expire(ctx, argv):
    now = now_ms()
    return _expire_generic(ctx, argv, now, 1000, now)


@command("pexpire", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Set a key's time to live in milliseconds",
         since="2.6.0",
         complexity="O(1)",
         acl="@keyspace @write @fast")
def cmd_pexpire(ctx, argv):
    now = now_ms()
    return _expire_generic(ctx, argv, now, 1, now)


@command("expireat", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Set the expiration for a key as a UNIX timestamp",
         since="1.2.0",
         complexity="O(1)",
         acl="@keyspace @write @fast")
def cmd_expireat(ctx, argv):
    return _expire_generic(ctx, argv, 0, 1000, now_ms())


@command("pexpireat", arity=-3, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Set the expiration for a key as a UNIX timestamp specified in milliseconds",
         since="2.6.0",
         complexity="O(1)",
         acl="@keyspace @write @fast")
def cmd_pexpireat(ctx, argv):
    return _expire_generic(ctx, argv, 0, 1, now_ms())


def _ttl_generic(ctx, key: bytes, in_ms: bool, absolute: bool) -> int:
    raw = ctx.db.read(key)
    if raw is None:
        return -2
    expire = U64.unpack_from(raw, 1)[0]
    if not expire:
        return -1
    ttl = expire if absolute else max(expire - now_ms(), 0)
    return ttl if in_ms else (ttl + 500) // 1000


@command("ttl", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         summary="Get the time to live for a key in seconds",
         since="1.0.0",
         complexity="O(1)",
         acl="@keyspace @read @fast")
def cmd_ttl(ctx, argv):
    return _ttl_generic(ctx, argv[1], False, False)


@command("pttl", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         summary="Get the time to live for a key in milliseconds",
         since="2.6.0",
         complexity="O(1)",
         acl="@keyspace @read @fast")
def cmd_pttl(ctx, argv):
    return _ttl_generic(ctx, argv[1], True, False)


@command("expiretime", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         summary="Get the expiration Unix timestamp for a key",
         since="7.0.0",
         complexity="O(1)",
         acl="@keyspace @read @fast")
def cmd_expiretime(ctx, argv):
    return _ttl_generic(ctx, argv[1], False, True)


@command("pexpiretime", arity=2, flags="readonly fast", keys=(1, 1, 1), group="generic",
         summary="Get the expiration Unix timestamp for a key in milliseconds",
         since="7.0.0",
         complexity="O(1)",
         acl="@keyspace @read @fast")
def cmd_pexpiretime(ctx, argv):
    return _ttl_generic(ctx, argv[1], True, True)


@command("persist", arity=2, flags="write fast", keys=(1, 1, 1), group="generic",
         summary="Remove the expiration from a key",
         since="2.2.0",
         complexity="O(1)",
         acl="@keyspace @write @fast")
def cmd_persist(ctx, argv):
    db = ctx.db
    raw = db.lookup(argv[1])
    if raw is None or not U64.unpack_from(raw, 1)[0]:
        return 0
    db.set_expire(argv[1], raw, 0)
    return 1
