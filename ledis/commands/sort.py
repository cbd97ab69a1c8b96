"""SORT and SORT_RO (Redis 7.0's ``sort.c``): sort a list, set or sorted set, numerically or
with ALPHA, by the elements themselves or by external keys / hash fields (BY), fetch other
keys per element (GET), page with LIMIT and optionally STORE the result as a list.

The rules that decide what a client sees, all as in Redis:

* options are parsed first, left to right (``LIMIT`` needs two integers, ``STORE`` is a
  syntax error in SORT_RO), and only then is the key looked up (WRONGTYPE after a syntax
  error, never before);
* a BY pattern without ``*`` means *no sorting* ("BY nosort"): lists keep their order and
  sorted sets their score order (DESC walks from the end, LIMIT picks the range directly);
  sets have no order, so with STORE or inside a script they are sorted with ALPHA instead,
  which keeps replicas and script effects deterministic (Redis 7.0 does the same);
* numeric sorting parses each weight like C's ``strtod`` (leading blanks, hex, ``inf``; NaN,
  trailing garbage, overflow and underflow fail the whole command with ``ERR One or more
  scores can't be converted into double``); an empty string and a missing BY key weigh 0;
  equal weights are ordered by the elements as binary strings, so the result is total;
* ALPHA compares bytes (Redis uses ``strcoll`` when not storing, which is the same order
  in the C / C.UTF-8 locales it runs under by default); with BY, a missing weight sorts
  first;
* patterns: ``#`` is the element itself, the first ``*`` is replaced by the element,
  ``key->field`` reads a hash field; anything but a string (or a hash for ``->``) reads as
  missing: nil in replies, an empty string in a STORE;
* STORE replaces the destination whatever its type (dropping its TTL) with a list, deletes
  it when the result is empty, answers the number of stored elements and wakes clients
  blocked on the destination list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ledis import blocking, errors
from ledis.commands.args import ArgCursor
from ledis.commands.registry import command
from ledis.errors import error
from ledis.storage import layout
from ledis.storage.types import list as lst
from ledis.storage.types import zset
from ledis.storage.types.hash import prefix_of, subs

_SORTABLE = (layout.LIST, layout.SET, layout.ZSET)
_DATA = layout.DATA
_SMALLEST_NORMAL = 2.2250738585072014e-308

# What C's strtod accepts as a whole number (after leading blanks).
_STRTOD = re.compile(
    rb"[ \t\n\v\f\r]*[+-]?(?:"
    rb"(?P<inf>inf(?:inity)?)"
    rb"|(?P<nan>nan(?:\([0-9a-z_]*\))?)"
    rb"|(?P<hex>0x(?:[0-9a-f]+\.?[0-9a-f]*|\.[0-9a-f]+)(?:p[+-]?[0-9]+)?)"
    rb"|(?P<dec>(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:e[+-]?[0-9]+)?)"
    rb")\Z",
    re.IGNORECASE,
)


def _weight(raw: bytes) -> float | None:
    """Redis's numeric SORT weight: ``strtod`` over the C string (up to a NUL), which must
    be consumed whole; None for NaN, garbage, overflow or underflow (ERANGE)."""
    digits = raw[1:] if raw[:1] == b"-" else raw
    if digits.isdigit() and len(digits) < 300:  # the common case: a plain integer
        return float(raw)
    text = raw.split(b"\0", 1)[0]
    if not text:
        return 0.0  # strtod converts nothing and stops at the terminator: no error
    m = _STRTOD.match(text)
    if m is None or m.group("nan"):
        return None
    if m.group("inf"):
        return float("-inf") if b"-" in text else float("inf")
    body = text.strip(b" \t\n\v\f\r")
    try:
        value = float.fromhex(body.decode()) if m.group("hex") else float(body)
    except OverflowError:
        return None
    if value in (float("inf"), float("-inf")):
        return None  # overflow
    if abs(value) < _SMALLEST_NORMAL:
        digits = (m.group("hex") or m.group("dec")).lower()
        mantissa = re.split(rb"[ep]", digits[2:] if m.group("hex") else digits)[0]
        if value or mantissa.strip(b"0.x"):
            return None  # underflow to a subnormal or to zero
    return value


def _lookup(db, pattern: bytes, element: bytes) -> bytes | None:
    """Redis's lookupKeyByPattern: ``#``, the first ``*`` replaced, ``->field`` of a hash."""
    text = pattern.split(b"\0", 1)[0]  # Redis searches the pattern as a C string
    if text == b"#":
        return element
    star = text.find(b"*")
    if star < 0:
        return None
    arrow = text.find(b"->", star + 1)
    field = None
    tail_end = len(pattern)
    if arrow >= 0 and arrow + 2 < len(text):
        field = pattern[arrow + 2:]
        tail_end = arrow
    key = pattern[:star] + element + pattern[star + 1:tail_end]
    raw = db.read(key)
    if raw is None:
        return None
    if field is not None:
        if raw[0] != layout.HASH:
            return None
        return db.engine.get(_DATA, prefix_of(db, key, raw) + field)
    if raw[0] != layout.STRING:
        return None
    return raw[9:]


@dataclass(slots=True)
class SortOptions:
    desc: bool = False
    alpha: bool = False
    dontsort: bool = False  # BY without '*': keep the collection's own order
    limit_start: int = 0
    limit_count: int = -1
    by: bytes | None = None
    store: bytes | None = None
    gets: list[bytes] = field(default_factory=list)


def _parse_sort_options(ctx, argv: list[bytes], readonly: bool) -> SortOptions:
    """The options, left to right, before the key is looked at (Redis's ``sortCommandGeneric``
    loop; STORE only for SORT). A BY pattern or a GET needs a user who may read every key
    (ACL), checked in the loop as Redis does."""
    opts = SortOptions()
    caller = ctx.core.scripting.caller if ctx.in_script else None
    user = (caller or ctx).user  # a script runs as its caller
    full_access = user.unrestricted or user.reads_every_key(
        ctx.core.acl.universe.by_name["sort_ro" if readonly else "sort"], argv)
    args = ArgCursor(argv, 2)
    while args:
        word = args.word()
        if word == b"ASC":
            opts.desc = False
        elif word == b"DESC":
            opts.desc = True
        elif word == b"ALPHA":
            opts.alpha = True
        elif word == b"LIMIT" and args.remaining() >= 2:
            opts.limit_start = args.take_int()
            opts.limit_count = args.take_int()
        elif word == b"STORE" and args and not readonly:
            opts.store = args.take()
        elif word == b"BY" and args:
            opts.by = args.take()
            if b"*" not in opts.by.split(b"\0", 1)[0]:
                opts.dontsort = True  # and a later BY with a pattern does not undo it, as in Redis
            elif not full_access:
                raise error(errors.SORT_BY_DENIED)
        elif word == b"GET" and args:
            if not full_access:
                raise error(errors.SORT_GET_DENIED)
            opts.gets.append(args.take())
        else:
            raise error(errors.SYNTAX)
    return opts


def _sort_elements(db, elements: list[bytes], alpha: bool, by: bytes | None,
                   desc: bool) -> list[bytes]:
    """Order ``elements`` by themselves or by their BY weights, as strings (ALPHA) or numbers
    (SORT_NOT_DOUBLE when a weight is not one; a missing weight is 0 / sorts first)."""
    if alpha:
        if by is None:
            return sorted(elements, reverse=desc)
        weights = [_lookup(db, by, e) for e in elements]
        order = sorted(range(len(elements)),
                       key=lambda i: (weights[i] is not None, weights[i] or b""), reverse=desc)
        return [elements[i] for i in order]
    keyed = []
    failed = False
    for e in elements:
        source = e if by is None else _lookup(db, by, e)
        w = 0.0 if source is None else _weight(source)
        if w is None:
            failed = True
            w = 0.0
        keyed.append((w, e))
    if failed:
        raise error(errors.SORT_NOT_DOUBLE)
    keyed.sort(reverse=desc)
    return [e for _, e in keyed]


def _sort(ctx, argv, readonly: bool):
    opts = _parse_sort_options(ctx, argv, readonly)
    desc, alpha, dontsort, by, store, gets = (opts.desc, opts.alpha, opts.dontsort, opts.by,
                                               opts.store, opts.gets)
    limit_start, limit_count = opts.limit_start, opts.limit_count

    db = ctx.db
    key = argv[1]
    raw = db.read(key)
    kind = layout.LIST if raw is None else raw[0]
    if kind not in _SORTABLE:
        raise error(errors.WRONGTYPE)
    if dontsort and kind == layout.SET and (store is not None or ctx.in_script):
        dontsort, alpha, by = False, True, None  # sets have no order of their own

    size = 0 if raw is None else layout.U64.unpack_from(raw, 17)[0]  # any collection's size
    start = max(limit_start, 0)
    end = size - 1 if limit_count < 0 else start + limit_count - 1
    if start >= size:
        start, end = size - 1, size - 2
    end = min(end, size - 1)

    # --- load the elements ---------------------------------------------------------------------
    elements: list[bytes] = []
    if raw is None or (dontsort and kind != layout.SET and end < start):
        start, end = 0, -1  # (sorting reads every element even for an empty LIMIT: a bad
        # weight fails the command all the same)
    elif dontsort and kind == layout.LIST:
        meta = lst.get(db, key)
        if desc:
            elements = lst.read(db, meta, size - 1 - end, size - 1 - start)  # type: ignore
            elements.reverse()
        else:
            elements = lst.read(db, meta, start, end)  # type: ignore[arg-type]
        start, end = 0, len(elements) - 1
    elif dontsort and kind == layout.ZSET:
        if desc:
            elements = zset.range_by_rank(db, key, size - 1 - end, size - 1 - start)
            elements.reverse()
        else:
            elements = zset.range_by_rank(db, key, start, end)
        start, end = 0, len(elements) - 1
    elif kind == layout.LIST:
        elements = lst.read(db, lst.get(db, key), 0, size - 1)  # type: ignore[arg-type]
    elif kind == layout.SET:
        elements = subs(db, key, raw)  # type: ignore[arg-type]
    else:
        elements = zset.range_by_rank(db, key, 0, -1)

    if not dontsort and elements:
        elements = _sort_elements(db, elements, alpha, by, desc)
    picked = elements[start:end + 1]

    # --- reply or store --------------------------------------------------------------------------
    if store is None:
        if not gets:
            return picked
        return [_lookup(db, pattern, e) for e in picked for pattern in gets]
    if gets:
        values = [_lookup(db, pattern, e) or b"" for e in picked for pattern in gets]
    else:
        values = picked
    old = db.raw(store)
    if old is not None:
        db.remove(store, old)
    if values:
        lst.push(db, store, values, False)
        blocking.key_ready(db, store)
    return len(values)


@command("sort", arity=-2, flags="write denyoom movablekeys", keys=(1, 1, 1), group="generic",
         summary="Sort the elements in a list, set or sorted set",
         complexity=("O(N+M*log(M)) where N is the number of elements in the list or set to "
                     "sort, and M the number of returned elements. When the elements are not "
                     "sorted, complexity is O(N)."),
         acl="@write @set @sortedset @list @slow @dangerous")
def cmd_sort(ctx, argv):
    return _sort(ctx, argv, False)


@command("sort_ro", arity=-2, flags="readonly movablekeys", keys=(1, 1, 1), group="generic",
         summary="Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
         since="7.0.0",
         complexity=("O(N+M*log(M)) where N is the number of elements in the list or set to "
                     "sort, and M the number of returned elements. When the elements are not "
                     "sorted, complexity is O(N)."),
         acl="@read @set @sortedset @list @slow @dangerous")
def cmd_sort_ro(ctx, argv):
    return _sort(ctx, argv, True)
