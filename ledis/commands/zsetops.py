"""ZUNION, ZINTER, ZDIFF, their STORE forms and ZINTERCARD (Redis 7.0).

Inputs may be sorted sets or plain sets (members of a set score 1, as in Redis); WEIGHTS and
AGGREGATE SUM|MIN|MAX are applied while merging. Parsing and reply shaping are shared with the
rest of the sorted-set commands in ``ledis.commands.zsets``.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import ArgCursor, parse_int
from ledis.commands.registry import command
from ledis.commands.zsets import parse_score, scored_reply
from ledis.errors import LedisError, error
from ledis.storage.types import zset

_UNION, _INTER, _DIFF = 1, 2, 3
_SUM, _MIN, _MAX = 1, 2, 3


def _aggregate(target: float, value: float, how: int) -> float:
    if how == _SUM:
        total = target + value
        return 0.0 if total != total else total  # inf + -inf: Redis's convention is 0
    if how == _MIN:
        return value if value < target else target
    return value if value > target else target


_AGGREGATES = {b"SUM": _SUM, b"MIN": _MIN, b"MAX": _MAX}


def _parse_setop_options(args: ArgCursor, op: int, dst: bytes | None, numkeys: int,
                         cardinality_only: bool) -> tuple[list[float], int, bool, int]:
    """WEIGHTS / AGGREGATE / WITHSCORES (LIMIT for ZINTERCARD) -> (weights, how, withscores,
    limit), with Redis's rule that an option missing its values is a syntax error."""
    weights = [1.0] * numkeys
    how = _SUM
    withscores = False
    limit = 0
    while args:
        remaining = args.remaining()
        opt = args.word()
        if cardinality_only:
            if remaining >= 2 and opt == b"LIMIT":
                limit = args.take_int_in(0, 2**63 - 1, errors.LIMIT_NEGATIVE)
                continue
            raise LedisError(errors.SYNTAX)
        if op != _DIFF and remaining >= numkeys + 1 and opt == b"WEIGHTS":
            for i in range(numkeys):
                weights[i] = parse_score(args.take(), errors.ZSET_WEIGHT_NOT_FLOAT)
        elif op != _DIFF and remaining >= 2 and opt == b"AGGREGATE":
            found = _AGGREGATES.get(args.word())
            if found is None:
                raise LedisError(errors.SYNTAX)
            how = found
        elif dst is None and opt == b"WITHSCORES":
            withscores = True
        else:
            raise LedisError(errors.SYNTAX)
    return weights, how, withscores, limit


def _setop(ctx, argv, op: int, dst: bytes | None, cardinality_only: bool = False):
    """Redis's ``zunionInterDiffGenericCommand``. Returns (member, score) pairs sorted like a
    zset, or the cardinality for ZINTERCARD."""
    name = argv[0].lower().decode("utf-8", "replace")
    numkeys_idx = 2 if dst is not None else 1
    numkeys = parse_int(argv[numkeys_idx])
    if numkeys < 1:
        raise error(errors.ZSET_NO_INPUT_KEYS, name)
    n = len(argv)
    if numkeys > n - numkeys_idx - 1:
        raise LedisError(errors.SYNTAX)
    keys = argv[numkeys_idx + 1:numkeys_idx + 1 + numkeys]
    db = ctx.db
    sizes = [zset.input_size(db, k) for k in keys]  # WRONGTYPE before option errors, as Redis
    weights, how, withscores, limit = _parse_setop_options(
        ArgCursor(argv, numkeys_idx + 1 + numkeys), op, dst, numkeys, cardinality_only)

    sources = list(zip(keys, weights, sizes, strict=True))
    if op != _DIFF:
        sources.sort(key=lambda s: s[2])  # smallest first, like Redis
    loaded = [(zset.load(db, k) or {}, w) for k, w, _ in sources]
    result: dict[bytes, float] = {}
    if op == _INTER:
        first, w0 = loaded[0]
        others = loaded[1:]
        count = 0
        for member, value in first.items():
            total = w0 * value
            if total != total:
                total = 0.0
            for other, w in others:
                found = other.get(member)
                if found is None:
                    break
                total = _aggregate(total, found * w, how)
            else:
                if cardinality_only:
                    count += 1
                    if limit and count >= limit:
                        break
                else:
                    result[member] = total
        if cardinality_only:
            return count
    elif op == _UNION:
        for items, w in loaded:
            for member, value in items.items():
                scaled = w * value
                if scaled != scaled:
                    scaled = 0.0
                current = result.get(member)
                result[member] = scaled if current is None else _aggregate(current, scaled, how)
    else:
        first = loaded[0][0]
        rest = [items for items, _ in loaded[1:]]
        for member, value in first.items():
            if not any(member in other for other in rest):
                result[member] = value
    pairs = sorted(result.items(), key=lambda mv: (mv[1] + 0.0, mv[0]))
    if dst is not None:
        return zset.store(db, dst, pairs)
    if withscores:
        return scored_reply(ctx, pairs)
    return [m for m, _ in pairs]


@command("zunion", arity=-3, flags="readonly movablekeys", keys=(0, 0, 0), group="sorted-set",
         summary="Add multiple sorted sets", since="6.2.0", acl="@read @sortedset @slow")
def cmd_zunion(ctx, argv):
    return _setop(ctx, argv, _UNION, None)


@command("zinter", arity=-3, flags="readonly movablekeys", keys=(0, 0, 0), group="sorted-set",
         summary="Intersect multiple sorted sets", since="6.2.0", acl="@read @sortedset @slow")
def cmd_zinter(ctx, argv):
    return _setop(ctx, argv, _INTER, None)


@command("zdiff", arity=-3, flags="readonly movablekeys", keys=(0, 0, 0), group="sorted-set",
         summary="Subtract multiple sorted sets", since="6.2.0", acl="@read @sortedset @slow")
def cmd_zdiff(ctx, argv):
    return _setop(ctx, argv, _DIFF, None)


@command("zunionstore", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group="sorted-set", summary="Add multiple sorted sets and store the resulting sorted "
         "set in a new key", since="2.0.0", acl="@write @sortedset @slow")
def cmd_zunionstore(ctx, argv):
    return _setop(ctx, argv, _UNION, argv[1])


@command("zinterstore", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group="sorted-set", summary="Intersect multiple sorted sets and store the resulting "
         "sorted set in a new key", since="2.0.0", acl="@write @sortedset @slow")
def cmd_zinterstore(ctx, argv):
    return _setop(ctx, argv, _INTER, argv[1])


@command("zdiffstore", arity=-4, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group="sorted-set", summary="Subtract multiple sorted sets and store the resulting "
         "sorted set in a new key", since="6.2.0", acl="@write @sortedset @slow")
def cmd_zdiffstore(ctx, argv):
    return _setop(ctx, argv, _DIFF, argv[1])


@command("zintercard", arity=-3, flags="readonly movablekeys", keys=(0, 0, 0),
         group="sorted-set", summary="Intersect multiple sorted sets and return the cardinality "
         "of the result", since="7.0.0", acl="@read @sortedset @slow")
def cmd_zintercard(ctx, argv):
    return _setop(ctx, argv, _INTER, None, cardinality_only=True)
