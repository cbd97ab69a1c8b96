"""Set commands (Redis 7.0) and LedisDB's SCLEAR / SMCLEAR.

Arguments are parsed first, then ``ledis.storage.types.set`` does the work. Replies that are
sets in RESP3 (SMEMBERS, SINTER/SUNION/SDIFF, SPOP with a count) are ``SetReply``; SSCAN
cursors work as HSCAN's (see ``ledis.commands.hashes``).

LedisDB extras: ``SCLEAR key`` deletes a set and returns its number of members;
``SMCLEAR key [key ...]`` deletes several and returns the number of keys given (as LedisDB);
both answer WRONGTYPE for a key of another type.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands import streaming
from ledis.commands.args import ArgCursor, parse_int, parse_positive, parse_scan_cursor
from ledis.commands.hashes import (
    cursor_for,
    cursor_position,
    parse_random_count,
    parse_scan_match,
)
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import SetReply
from ledis.storage.types import hash as collection
from ledis.storage.types import set as sets

_SET = sets.SET


@command("sadd", arity=-3, flags="write denyoom fast", keys=(1, 1, 1), group="set",
         complexity=(
             "O(1) for each element added, so O(N) to add N elements when the command is "
             "called with multiple arguments."
         ),
         summary="Add one or more members to a set", acl="@write @set @fast")
def cmd_sadd(ctx, argv):
    return sets.add(ctx.db, argv[1], argv, 2)


@command("srem", arity=-3, flags="write fast", keys=(1, 1, 1), group="set",
         complexity="O(N) where N is the number of members to be removed.",
         summary="Remove one or more members from a set", acl="@write @set @fast")
def cmd_srem(ctx, argv):
    return sets.remove(ctx.db, argv[1], argv, 2)


@command("scard", arity=2, flags="readonly fast", keys=(1, 1, 1), group="set",
         complexity="O(1)",
         summary="Get the number of members in a set", acl="@read @set @fast")
def cmd_scard(ctx, argv):
    return sets.card(ctx.db, argv[1])


@command("sismember", arity=3, flags="readonly fast", keys=(1, 1, 1), group="set",
         complexity="O(1)",
         summary="Determine if a given value is a member of a set", acl="@read @set @fast")
def cmd_sismember(ctx, argv):
    return int(sets.is_member(ctx.db, argv[1], argv[2]))


@command("smismember", arity=-3, flags="readonly fast", keys=(1, 1, 1), group="set",
         summary="Returns the membership associated with the given elements for a set",
         complexity="O(N) where N is the number of elements being checked for membership",
         since="6.2.0", acl="@read @set @fast")
def cmd_smismember(ctx, argv):
    return sets.are_members(ctx.db, argv[1], argv[2:])


@command("smembers", arity=2, flags="readonly", keys=(1, 1, 1), group="set",
         complexity="O(N) where N is the set cardinality.",
         summary="Get all the members in a set", acl="@read @set @slow")
def cmd_smembers(ctx, argv):
    raw = ctx.db.read_type(argv[1], _SET)
    if raw is None:
        return SetReply()
    size = collection.size_of(raw)
    # a big set: sent in chunks (ledis/commands/streaming.py)
    if size > streaming.STREAM_MIN and (chunk := streaming.chunk_size(ctx, size)):
        walk, skip = collection.walk(ctx.db, argv[1], raw)
        return streaming.streamed(streaming.sub_keys(walk, skip, chunk), size, b"~")
    return SetReply(collection.subs(ctx.db, argv[1], raw))


@command("srandmember", arity=-2, flags="readonly", keys=(1, 1, 1), group="set",
         complexity=(
             "Without the count argument O(1), otherwise O(N) where N is the absolute value of"
             " the passed count."
         ),
         summary="Get one or multiple random members from a set", acl="@read @set @slow")
def cmd_srandmember(ctx, argv):
    db = ctx.db
    if len(argv) == 2:
        raw = db.read_type(argv[1], _SET)
        if raw is None:
            return None
        return collection.sample(db, argv[1], raw, 1, True)[0][0]
    if len(argv) > 3:
        raise LedisError(errors.SYNTAX)
    count = parse_random_count(argv[2])
    return sets.random_members(db, argv[1], abs(count), count > 0)


@command("spop", arity=-2, flags="write fast", keys=(1, 1, 1), group="set",
         summary="Remove and return one or multiple random members from a set",
         complexity=(
             "Without the count argument O(1), otherwise O(N) where N is the value of the "
             "passed count."
         ),
         acl="@write @set @fast")
def cmd_spop(ctx, argv):
    if len(argv) == 2:
        popped = sets.pop(ctx.db, argv[1], 1)
        return popped[0] if popped else None
    if len(argv) > 3:
        raise LedisError(errors.SYNTAX)
    count = parse_positive(argv[2])
    return SetReply(sets.pop(ctx.db, argv[1], count, counted=True))


@command("smove", arity=4, flags="write fast", keys=(1, 2, 1), group="set",
         complexity="O(1)",
         summary="Move a member from one set to another", acl="@write @set @fast")
def cmd_smove(ctx, argv):
    return sets.move(ctx.db, argv[1], argv[2], argv[3])


@command("sinter", arity=-2, flags="readonly", keys=(1, -1, 1), group="set",
         complexity=(
             "O(N*M) worst case where N is the cardinality of the smallest set and M is the "
             "number of sets."
         ),
         summary="Intersect multiple sets", acl="@read @set @slow")
def cmd_sinter(ctx, argv):
    return SetReply(sets.inter(ctx.db, argv[1:]))


@command("sintercard", arity=-3, flags="readonly movablekeys", keys=(0, 0, 0), group="set",
         summary="Intersect multiple sets and return the cardinality of the result",
         complexity=(
             "O(N*M) worst case where N is the cardinality of the smallest set and M is the "
             "number of sets."
         ),
         since="7.0.0", acl="@read @set @slow")
def cmd_sintercard(ctx, argv):
    numkeys = parse_int(argv[1], errors.NUMKEYS_NOT_POSITIVE)
    if numkeys < 1:
        raise LedisError(errors.NUMKEYS_NOT_POSITIVE)
    if numkeys > len(argv) - 2:
        raise LedisError(errors.NUMKEYS_TOO_MANY)
    keys = argv[2:2 + numkeys]
    args = ArgCursor(argv, 2 + numkeys)
    limit = 0
    while args:
        if args.remaining() >= 2 and args.eat(b"LIMIT"):
            limit = args.take_int(errors.LIMIT_NEGATIVE)
            if limit < 0:
                raise LedisError(errors.LIMIT_NEGATIVE)
        else:
            raise LedisError(errors.SYNTAX)
    return len(sets.inter(ctx.db, keys, limit))


@command("sunion", arity=-2, flags="readonly", keys=(1, -1, 1), group="set",
         complexity="O(N) where N is the total number of elements in all given sets.",
         summary="Add multiple sets", acl="@read @set @slow")
def cmd_sunion(ctx, argv):
    return SetReply(sets.union(ctx.db, argv[1:]))


@command("sdiff", arity=-2, flags="readonly", keys=(1, -1, 1), group="set",
         complexity="O(N) where N is the total number of elements in all given sets.",
         summary="Subtract multiple sets", acl="@read @set @slow")
def cmd_sdiff(ctx, argv):
    return SetReply(sets.diff(ctx.db, argv[1:]))


@command("sinterstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         summary="Intersect multiple sets and store the resulting set in a key",
         complexity=(
             "O(N*M) worst case where N is the cardinality of the smallest set and M is the "
             "number of sets."
         ),
         acl="@write @set @slow")
def cmd_sinterstore(ctx, argv):
    return sets.store(ctx.db, argv[1], sets.inter(ctx.db, argv[2:]))


@command("sunionstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         summary="Add multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         acl="@write @set @slow")
def cmd_sunionstore(ctx, argv):
    return sets.store(ctx.db, argv[1], sets.union(ctx.db, argv[2:]))


@command("sdiffstore", arity=-3, flags="write denyoom", keys=(1, -1, 1), group="set",
         summary="Subtract multiple sets and store the resulting set in a key",
         complexity="O(N) where N is the total number of elements in all given sets.",
         acl="@write @set @slow")
def cmd_sdiffstore(ctx, argv):
    return sets.store(ctx.db, argv[1], sets.diff(ctx.db, argv[2:]))


@command("sscan", arity=-3, flags="readonly", keys=(1, 1, 1), group="set",
         complexity=(
             "O(1) for every call. O(N) for a complete iteration, including enough command "
             "calls for the cursor to return back to 0. N is the number of elements inside the"
             " collection.."
         ),
         summary="Incrementally iterate Set elements", since="2.8.0", acl="@read @set @slow")
def cmd_sscan(ctx, argv):
    cursor = parse_scan_cursor(argv[2])
    db = ctx.db
    raw = db.read_type(argv[1], _SET)
    if raw is None:
        return [b"0", []]
    count, match = parse_scan_match(argv, 3)
    small = collection.size_of(raw) <= collection.SCAN_ALL_AT_ONCE
    after = None if small else cursor_position(cursor)
    found, last = collection.scan(db, argv[1], raw, after, count, match)
    return [cursor_for(last), [m for m, _ in found]]


@command("sclear", arity=2, flags="write", keys=(1, 1, 1), group="set",
         summary="Delete a set (LedisDB); returns its number of members",
         acl="@write @set @slow")
def cmd_sclear(ctx, argv):
    return collection.clear(ctx.db, argv[1], _SET)


@command("smclear", arity=-2, flags="write", keys=(1, -1, 1), group="set",
         summary="Delete sets (LedisDB); returns the number of keys given",
         acl="@write @set @slow")
def cmd_smclear(ctx, argv):
    db = ctx.db
    keys = argv[1:]
    collection.check_types(db, keys, _SET)
    for key in keys:
        collection.clear(db, key, _SET)
    return len(keys)
