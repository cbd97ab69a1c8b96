"""GEO commands: GEOADD, GEOPOS, GEODIST, GEOHASH, GEOSEARCH[STORE], GEORADIUS[BYMEMBER][_RO].

A GEO set is a plain sorted set (``ledis.storage.types.zset``) whose scores are Redis's 52-bit
geohashes (``ledis.geohash`` has the arithmetic), so every Z* command works on it and the
positions, distances, hashes and search results are those Redis 7.0 gives for the same
commands. Handlers follow ``geo.c`` step by step, including the order in which arguments are
checked (a wrong type is reported before bad options, a bad unit before a missing key ...).

A search asks the zset for at most nine score ranges (the geohash cell around the centre and
its neighbours, ``geohash.search_ranges``), never the whole set, and keeps the candidates
inside the radius or box. Results are sorted by distance with a stable sort: when two members
are at exactly the same distance (same position) their relative order may differ from
Redis's, whose qsort is not stable with COUNT.

Replies as in Redis: distances are bulk strings with 4 decimals (``%.4f``) in both protocols,
hashes integers, coordinates the "human" long-double text (``%.17Lf`` without trailing zeros)
as bulk strings in RESP2 and doubles in RESP3.
"""

from __future__ import annotations

from dataclasses import dataclass

from ledis import errors, geohash
from ledis.commands.args import ArgCursor
from ledis.commands.registry import command
from ledis.commands.zsets import parse_score
from ledis.errors import LedisError
from ledis.replies import Double, NullArray, Raw
from ledis.storage.types import zset
from ledis.storage.types.zset import ScoreRange

# georadiusGeneric's flags
_COORDS, _MEMBER, _NOSTORE, _SEARCH, _SEARCHSTORE = 1, 2, 4, 8, 16


# --- argument helpers -------------------------------------------------------------------------


def _lonlat(raw_lon: bytes, raw_lat: bytes) -> tuple[float, float]:
    """``extractLongLatOrReply``."""
    lon = parse_score(raw_lon)
    lat = parse_score(raw_lat)
    if not (geohash.LONG_MIN <= lon <= geohash.LONG_MAX
            and geohash.LAT_MIN <= lat <= geohash.LAT_MAX):
        raise LedisError(errors.GEO_INVALID_LONLAT.format(lon, lat))
    return lon, lat


def _unit(raw: bytes) -> float:
    """Meters in one ``raw`` unit (``extractUnitOrReply``)."""
    factor = geohash.UNITS.get(raw.lower())
    if factor is None:
        raise LedisError(errors.GEO_UNIT)
    return factor


def _radius(raw: bytes, unit: bytes) -> tuple[float, float]:
    """(radius, conversion): ``extractDistanceOrReply``."""
    value = parse_score(raw, errors.GEO_NEED_RADIUS)
    if value < 0:
        raise LedisError(errors.GEO_NEGATIVE_RADIUS)
    return value, _unit(unit)


def _box(raw_w: bytes, raw_h: bytes, unit: bytes) -> tuple[float, float, float]:
    """(width, height, conversion): ``extractBoxOrReply``."""
    width = parse_score(raw_w, errors.GEO_NEED_WIDTH)
    height = parse_score(raw_h, errors.GEO_NEED_HEIGHT)
    if height < 0 or width < 0:
        raise LedisError(errors.GEO_NEGATIVE_BOX)
    return width, height, _unit(unit)


def _member_position(db, key: bytes, member: bytes) -> tuple[float, float]:
    raw = zset.meta(db, key)  # the search counted its read already
    value = None if raw is None else zset.member_score(db, key, raw, member)
    if value is None:
        raise LedisError(errors.GEO_MEMBER)
    return geohash.decode_score(value)


# --- reply helpers ----------------------------------------------------------------------------


def _distance_text(value: float) -> bytes:
    return b"%.4f" % value


def _human(value: float) -> bytes:
    """Redis's ``ld2string(..., LD_STR_HUMAN)``: ``%.17Lf`` without trailing zeros. A double
    widened to long double prints the same digits as the double itself."""
    text = b"%.17f" % value
    if b"." in text:
        text = text.rstrip(b"0").rstrip(b".")
    return b"0" if text == b"-0" else text


def _coordinate(ctx, value: float):
    """A coordinate reply: bulk text in RESP2, a RESP3 double with Redis's digits."""
    if ctx.resp != 3:
        return _human(value)
    if ctx.wire:
        return Raw(b",%s\r\n" % _human(value))
    return Double(value)


# --- GEOADD / GEOPOS / GEODIST / GEOHASH ------------------------------------------------------


@command("geoadd", arity=-5, flags="write denyoom", keys=(1, 1, 1), group="geo",
         summary="Add one or more geospatial items in the geospatial index represented using a "
                 "sorted set", since="3.2.0",
         complexity="O(log(N)) for each item added, where N is the number of elements in the "
                    "sorted set.", acl="@write @geo @slow")
def cmd_geoadd(ctx, argv):
    # Flags come first and end at the first word that is not one (the first longitude).
    flags = {b"NX": False, b"XX": False, b"CH": False}
    args = ArgCursor(argv, 2)
    while (word := args.peek()) is not None and word.upper() in flags:
        flags[args.word()] = True
    nx, xx, ch = flags.values()
    i, n = args.pos, len(argv)
    if (n - i) % 3 or (xx and nx) or i == n:
        raise LedisError(errors.SYNTAX)
    pairs = []
    for j in range(i, n, 3):
        lon, lat = _lonlat(argv[j], argv[j + 1])
        pairs.append((float(geohash.score_of(lon, lat)), argv[j + 2]))
    added, updated, _, _ = zset.add(ctx.db, argv[1], pairs, nx, xx)
    return added + updated if ch else added


@command("geopos", arity=-2, flags="readonly", keys=(1, 1, 1), group="geo",
         summary="Returns longitude and latitude of members of a geospatial index",
         since="3.2.0", complexity="O(N) where N is the number of members requested.",
         acl="@read @geo @slow")
def cmd_geopos(ctx, argv):
    out: list = []
    for value in zset.scores(ctx.db, argv[1], argv[2:]):
        if value is None:
            out.append(NullArray)
        else:
            lon, lat = geohash.decode_score(value)
            out.append([_coordinate(ctx, lon), _coordinate(ctx, lat)])
    return out


@command("geodist", arity=-4, flags="readonly", keys=(1, 1, 1), group="geo",
         summary="Returns the distance between two members of a geospatial index",
         since="3.2.0", complexity="O(log(N))", acl="@read @geo @slow")
def cmd_geodist(ctx, argv):
    to_meter = 1.0
    if len(argv) == 5:
        to_meter = _unit(argv[4])
    elif len(argv) > 5:
        raise LedisError(errors.SYNTAX)
    first, second = zset.scores(ctx.db, argv[1], argv[2:4])
    if first is None or second is None:
        return None
    lon1, lat1 = geohash.decode_score(first)
    lon2, lat2 = geohash.decode_score(second)
    return _distance_text(geohash.distance(lon1, lat1, lon2, lat2) / to_meter)


@command("geohash", arity=-2, flags="readonly", keys=(1, 1, 1), group="geo",
         summary="Returns members of a geospatial index as standard geohash strings",
         since="3.2.0", complexity="O(log(N)) for each member requested, where N is the "
                                   "number of elements in the sorted set.",
         acl="@read @geo @slow")
def cmd_geohash(ctx, argv):
    return [None if value is None else geohash.geohash_string(value)
            for value in zset.scores(ctx.db, argv[1], argv[2:])]


# --- searches ---------------------------------------------------------------------------------


def _points(db, key: bytes, shape: geohash.Shape, limit: int) -> list[tuple]:
    """(distance in meters, member, score, longitude, latitude) of every member inside
    ``shape``, cell by cell and in score order within a cell (``membersOfAllNeighbors``);
    with ``limit`` (COUNT ... ANY) it stops as soon as that many were found."""
    found: list[tuple] = []
    decode = zset.decode_score
    contains = shape.contains
    for low, high in geohash.search_ranges(shape):
        if limit and len(found) >= limit:
            break
        spec = ScoreRange(float(low), float(high), False, True)
        for member, enc in zset.range_by_score(db, key, spec, with_scores=True):
            score = decode(enc)
            lon, lat = geohash.decode_score(score)
            dist = contains(lon, lat)
            if dist is None:
                continue
            found.append((dist, member, score, lon, lat))
            if limit and len(found) >= limit:
                break
    return found


@dataclass(slots=True)
class SearchOptions:
    withdist: bool = False
    withhash: bool = False
    withcoord: bool = False
    frommember: bool = False
    fromloc: bool = False
    byradius: bool = False
    bybox: bool = False
    sort: int = 0  # 0 none, 1 ASC, 2 DESC
    any: bool = False
    count: int = 0
    store_key: bytes | None = None
    store_dist: bool = False


def _parse_search_options(db, key: bytes, exists: bool, args: ArgCursor, flags: int,
                          shape: geohash.Shape) -> SearchOptions:
    """The options of GEORADIUS* / GEOSEARCH*, left to right as ``georadiusGeneric`` reads them:
    FROMMEMBER, FROMLONLAT, BYRADIUS and BYBOX fill ``shape`` as they are met (a missing
    FROMMEMBER member fails here, before later options are looked at)."""
    opts = SearchOptions()
    search = flags & _SEARCH
    while args:
        arg = args.word()
        left = args.remaining()  # arguments after this one
        if arg == b"WITHDIST":
            opts.withdist = True
        elif arg == b"WITHHASH":
            opts.withhash = True
        elif arg == b"WITHCOORD":
            opts.withcoord = True
        elif arg == b"ANY":
            opts.any = True
        elif arg == b"ASC":
            opts.sort = 1
        elif arg == b"DESC":
            opts.sort = 2
        elif arg == b"COUNT" and left >= 1:
            opts.count = args.take_int()
            if opts.count <= 0:
                raise LedisError(errors.GEO_COUNT)
        elif arg in (b"STORE", b"STOREDIST") and left >= 1 and not flags & (_NOSTORE | _SEARCH):
            opts.store_key = args.take()
            opts.store_dist = arg == b"STOREDIST"
        elif arg == b"STOREDIST" and search and flags & _SEARCHSTORE:
            opts.store_dist = True
        elif arg == b"FROMMEMBER" and left >= 1 and search and not opts.fromloc:
            member = args.take()
            if exists:
                shape.x, shape.y = _member_position(db, key, member)
            opts.frommember = True
        elif arg == b"FROMLONLAT" and left >= 2 and search and not opts.frommember:
            shape.x, shape.y = _lonlat(args.take(), args.take())
            opts.fromloc = True
        elif arg == b"BYRADIUS" and left >= 2 and search and not opts.bybox:
            shape.radius, shape.conversion = _radius(args.take(), args.take())
            shape.box = False
            opts.byradius = True
        elif arg == b"BYBOX" and left >= 3 and search and not opts.byradius:
            shape.width, shape.height, shape.conversion = _box(args.take(), args.take(),
                                                                args.take())
            shape.box = True
            opts.bybox = True
        else:
            raise LedisError(errors.SYNTAX)
    return opts


def _search(ctx, argv, src_index: int, flags: int):
    """``georadiusGeneric``: parse, search, reply or store."""
    db = ctx.db
    key = argv[src_index]
    exists = zset.read_meta(db, key) is not None  # WRONGTYPE before anything, as Redis
    shape = geohash.Shape()
    store_key: bytes | None = None
    store_dist = False
    if flags & _COORDS:
        base = 6
        shape.x, shape.y = _lonlat(argv[2], argv[3])
        shape.radius, shape.conversion = _radius(argv[4], argv[5])
    elif flags & _MEMBER:
        base = 5
        if exists:
            shape.x, shape.y = _member_position(db, key, argv[2])
            shape.radius, shape.conversion = _radius(argv[3], argv[4])
    else:
        base = 2
        if flags & _SEARCHSTORE:
            base = 3
            store_key = argv[1]
    opts = _parse_search_options(db, key, exists, ArgCursor(argv, base), flags, shape)
    if opts.store_key is not None:
        store_key = opts.store_key
    store_dist = opts.store_dist
    withdist, withhash, withcoord = opts.withdist, opts.withhash, opts.withcoord
    frommember, fromloc, byradius, bybox = opts.frommember, opts.fromloc, opts.byradius, opts.bybox
    sort, any_, count = opts.sort, opts.any, opts.count
    if store_key is not None and (withdist or withhash or withcoord):
        raise LedisError(errors.GEO_STORE_WITH.format(
            "GEOSEARCHSTORE" if flags & _SEARCHSTORE else "STORE option in GEORADIUS"))
    name = argv[0].decode("utf-8", "replace")
    if flags & _SEARCH and not (frommember or fromloc):
        raise LedisError(errors.GEO_FROM.format(name))
    if flags & _SEARCH and not (byradius or bybox):
        raise LedisError(errors.GEO_BY.format(name))
    if any_ and not count:
        raise LedisError(errors.GEO_ANY_NEEDS_COUNT)
    if not exists:
        if store_key is not None:
            db.delete(store_key)
            return 0
        return []
    if count and not sort and not any_:
        sort = 1  # the closest COUNT need an order
    points = _points(db, key, shape, count if any_ else 0)
    if not points and store_key is None:
        return []
    if sort:
        points.sort(key=lambda p: p[0], reverse=sort == 2)
    if count:
        points = points[:count]
    conversion = shape.conversion
    if store_key is not None:
        items = [(p[1], p[0] / conversion if store_dist else p[2]) for p in points]
        return zset.store(db, store_key, items)
    if not (withdist or withhash or withcoord):
        return [p[1] for p in points]
    out = []
    for dist, member, score, lon, lat in points:
        entry: list = [member]
        if withdist:
            entry.append(_distance_text(dist / conversion))
        if withhash:
            entry.append(int(score))
        if withcoord:
            entry.append([_coordinate(ctx, lon), _coordinate(ctx, lat)])
        out.append(entry)
    return out


@command("georadius", arity=-6, flags="write denyoom movablekeys", keys=(1, 1, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members matching "
                 "a given maximum distance from a point", since="3.2.0",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of "
                    "the circular area delimited by center and radius and M is the number of "
                    "items inside the index.", acl="@write @geo @slow")
def cmd_georadius(ctx, argv):
    return _search(ctx, argv, 1, _COORDS)


@command("georadiusbymember", arity=-5, flags="write denyoom movablekeys", keys=(1, 1, 1),
         group="geo", summary="Query a sorted set representing a geospatial index to fetch "
         "members matching a given maximum distance from a member", since="3.2.0",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of "
                    "the circular area delimited by center and radius and M is the number of "
                    "items inside the index.", acl="@write @geo @slow")
def cmd_georadiusbymember(ctx, argv):
    return _search(ctx, argv, 1, _MEMBER)


@command("georadius_ro", arity=-6, flags="readonly", keys=(1, 1, 1), group="geo",
         summary="A read-only variant for GEORADIUS", since="3.2.10",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of "
                    "the circular area delimited by center and radius and M is the number of "
                    "items inside the index.", acl="@read @geo @slow")
def cmd_georadius_ro(ctx, argv):
    return _search(ctx, argv, 1, _COORDS | _NOSTORE)


@command("georadiusbymember_ro", arity=-5, flags="readonly", keys=(1, 1, 1), group="geo",
         summary="A read-only variant for GEORADIUSBYMEMBER", since="3.2.10",
         complexity="O(N+log(M)) where N is the number of elements inside the bounding box of "
                    "the circular area delimited by center and radius and M is the number of "
                    "items inside the index.", acl="@read @geo @slow")
def cmd_georadiusbymember_ro(ctx, argv):
    return _search(ctx, argv, 1, _MEMBER | _NOSTORE)


@command("geosearch", arity=-7, flags="readonly", keys=(1, 1, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members inside "
                 "an area of a box or a circle.", since="6.2.0",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned bounding "
                    "box area around the shape provided as the filter and M is the number of "
                    "items inside the shape", acl="@read @geo @slow")
def cmd_geosearch(ctx, argv):
    return _search(ctx, argv, 1, _SEARCH)


@command("geosearchstore", arity=-8, flags="write denyoom", keys=(1, 2, 1), group="geo",
         summary="Query a sorted set representing a geospatial index to fetch members inside "
                 "an area of a box or a circle, and store the result in another key.",
         since="6.2.0",
         complexity="O(N+log(M)) where N is the number of elements in the grid-aligned bounding "
                    "box area around the shape provided as the filter and M is the number of "
                    "items inside the shape", acl="@write @geo @slow")
def cmd_geosearchstore(ctx, argv):
    return _search(ctx, argv, 2, _SEARCH | _SEARCHSTORE)
