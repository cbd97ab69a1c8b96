"""Geohash arithmetic of Redis 7.0 (``geohash.c``, ``geohash_helper.c``), as pure functions.

A GEO set is a sorted set whose scores are 52-bit integers (stored as doubles, exact below
2**53): 26 bits of latitude and 26 of longitude, interleaved with latitude in the even bits
and longitude in the odd ones. Latitude is mapped from Redis's Web-Mercator range
[-85.05112878, 85.05112878], not [-90, 90], so a position decodes to the centre of its cell
and GEOHASH re-encodes that centre over [-90, 90] to print a standard 11-character geohash.

A search (radius or box) estimates a cell size from the radius, takes the cell containing the
centre and its 8 neighbours, drops neighbours that cannot intersect the search area, and
scans each remaining cell as one score range ``[min, max)`` of the zset. Every candidate is
then checked by distance (haversine on Redis's earth radius). The steps and floating-point
operations follow the C code operation by operation, so that cell choices, distances and the
order of results are those of Redis: Python's ``math`` calls the same libm functions.

Nothing here touches storage; ``ledis.commands.geo`` does.
"""

from __future__ import annotations

import math

STEP_MAX = 26  # 26 bits per coordinate: 52-bit scores
LONG_MIN, LONG_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -85.05112878, 85.05112878
EARTH_RADIUS_IN_METERS = 6372797.560856
MERCATOR_MAX = 20037726.37
D_R = math.pi / 180.0

UNITS = {b"m": 1.0, b"km": 1000.0, b"ft": 0.3048, b"mi": 1609.34}
_ALPHABET = b"0123456789bcdefghjkmnpqrstuvwxyz"
_U64 = (1 << 64) - 1

_sin, _cos, _asin, _sqrt = math.sin, math.cos, math.asin, math.sqrt


def _interleave(xlo: int, ylo: int) -> int:
    """Bits of ``xlo`` in the even positions, ``ylo`` in the odd ones (both < 2**32)."""
    x, y = xlo & 0xFFFFFFFF, ylo & 0xFFFFFFFF
    for shift, mask in ((16, 0x0000FFFF0000FFFF), (8, 0x00FF00FF00FF00FF),
                        (4, 0x0F0F0F0F0F0F0F0F), (2, 0x3333333333333333),
                        (1, 0x5555555555555555)):
        x = (x | (x << shift)) & mask
        y = (y | (y << shift)) & mask
    return x | (y << 1)


def _deinterleave(bits: int) -> tuple[int, int]:
    """(even bits, odd bits) of ``bits``."""
    x, y = bits & _U64, (bits >> 1) & _U64
    for shift, mask in ((0, 0x5555555555555555), (1, 0x3333333333333333),
                        (2, 0x0F0F0F0F0F0F0F0F), (4, 0x00FF00FF00FF00FF),
                        (8, 0x0000FFFF0000FFFF), (16, 0x00000000FFFFFFFF)):
        x = (x | (x >> shift)) & mask
        y = (y | (y >> shift)) & mask
    return x, y


def encode(longitude: float, latitude: float, step: int = STEP_MAX,
           lat_min: float = LAT_MIN, lat_max: float = LAT_MAX,
           long_min: float = LONG_MIN, long_max: float = LONG_MAX) -> int:
    """``geohashEncode``: the ``2 * step`` bit hash of a position (caller checks ranges)."""
    lat_offset = (latitude - lat_min) / (lat_max - lat_min)
    long_offset = (longitude - long_min) / (long_max - long_min)
    lat_offset *= 1 << step
    long_offset *= 1 << step
    return _interleave(int(lat_offset), int(long_offset))  # C truncates to uint32


def score_of(longitude: float, latitude: float) -> int:
    """The 52-bit sorted-set score of a position (GEOADD)."""
    return encode(longitude, latitude)


def bits_of_score(score: float) -> int:
    """``(uint64_t)score`` as gcc's x86-64 code computes it (GEO scores are exact integers):
    below 2**63 one ``cvttsd2si``, whose out-of-range answer (NaN, below -2**63) is 1 << 63;
    from 2**63 the same of ``score - 2**63`` with the top bit flipped, so 2**64 and beyond
    (``inf`` too) come out as 0."""
    if score >= 2.0**64:
        return 0
    if math.isnan(score) or score < -2.0**63:
        return 1 << 63
    return int(score) & _U64


def decode_area(bits: int, step: int = STEP_MAX) -> tuple[float, float, float, float]:
    """``geohashDecode``: (long_min, long_max, lat_min, lat_max) of a cell."""
    ilato, ilono = _deinterleave(bits)
    ilato &= 0xFFFFFFFF
    ilono &= 0xFFFFFFFF
    lat_scale = LAT_MAX - LAT_MIN
    long_scale = LONG_MAX - LONG_MIN
    cells = float(1 << step)
    return (LONG_MIN + (ilono * 1.0 / cells) * long_scale,
            LONG_MIN + ((ilono + 1) * 1.0 / cells) * long_scale,
            LAT_MIN + (ilato * 1.0 / cells) * lat_scale,
            LAT_MIN + ((ilato + 1) * 1.0 / cells) * lat_scale)


# Searches decode every candidate, and the same members are candidates again and again:
# remember decoded positions (bounded; once full, misses are just computed).
_POSITIONS: dict[float, tuple[float, float]] = {}
_POSITIONS_MAX = 65536


def decode_score(score: float) -> tuple[float, float]:
    """(longitude, latitude) of a score: the centre of its 52-bit cell, clamped to the valid
    ranges (the cells on the edge have their centre just outside: 180 and 85.05112878 are
    legal positions)."""
    position = _POSITIONS.get(score)
    if position is not None:
        return position
    lo_min, lo_max, la_min, la_max = decode_area(bits_of_score(score))
    lon = (lo_min + lo_max) / 2
    lat = (la_min + la_max) / 2
    position = (min(max(lon, LONG_MIN), LONG_MAX), min(max(lat, LAT_MIN), LAT_MAX))
    if len(_POSITIONS) < _POSITIONS_MAX and not math.isnan(score):
        _POSITIONS[score] = position
    return position


def geohash_string(score: float) -> bytes:
    """GEOHASH's 11 characters: the cell centre re-encoded over latitude [-90, 90]; the
    11th character stands for bits Redis does not have and is always '0'."""
    longitude, latitude = decode_score(score)
    if not (LONG_MIN <= longitude <= LONG_MAX and LAT_MIN <= latitude <= LAT_MAX):
        return b""  # geohashEncode refuses; cannot happen for scores GEOADD wrote
    bits = encode(longitude, latitude, STEP_MAX, -90.0, 90.0, -180.0, 180.0)
    out = bytearray()
    for i in range(10):
        out.append(_ALPHABET[(bits >> (52 - (i + 1) * 5)) & 0x1F])
    out.append(_ALPHABET[0])
    return bytes(out)


def distance(lon1d: float, lat1d: float, lon2d: float, lat2d: float) -> float:
    """``geohashGetDistance``: haversine, in meters."""
    lat1r = lat1d * D_R
    lon1r = lon1d * D_R
    lat2r = lat2d * D_R
    lon2r = lon2d * D_R
    u = _sin((lat2r - lat1r) / 2)
    v = _sin((lon2r - lon1r) / 2)
    return 2.0 * EARTH_RADIUS_IN_METERS * _asin(_sqrt(u * u + _cos(lat1r) * _cos(lat2r) * v * v))


# --- search areas -------------------------------------------------------------------------


class Shape:
    """A search: centre ``x``/``y`` (longitude/latitude), a radius or a width/height box, in
    the unit whose size in meters is ``conversion``."""

    __slots__ = ("box", "conversion", "height", "radius", "width", "x", "y")

    def __init__(self) -> None:
        self.x = self.y = 0.0
        self.radius = self.width = self.height = 0.0
        self.conversion = 1.0
        self.box = False

    def contains(self, lon: float, lat: float) -> float | None:
        """Distance in meters from the centre if (lon, lat) is inside, else None
        (``geohashGetDistanceIfInRadius`` / ``geohashGetDistanceIfInRectangle``)."""
        if not self.box:
            d = distance(self.x, self.y, lon, lat)
            return None if d > self.radius * self.conversion else d
        lon_distance = distance(lon, lat, self.x, lat)
        lat_distance = distance(lon, lat, lon, self.y)
        if (lon_distance > self.width * self.conversion / 2
                or lat_distance > self.height * self.conversion / 2):
            return None
        return distance(self.x, self.y, lon, lat)


def estimate_steps(range_meters: float, lat: float) -> int:
    """``geohashEstimateStepsByRadius``: cell precision for a search of this radius."""
    if range_meters == 0:
        return 26
    step = 1
    while range_meters < MERCATOR_MAX:
        range_meters *= 2
        step += 1
    step -= 2
    if lat > 66 or lat < -66:
        step -= 1
        if lat > 80 or lat < -80:
            step -= 1
    return max(1, min(26, step))


def _c_cos(x: float) -> float:
    """C's ``cos``: NaN for an infinite angle (an infinite radius), where ``math.cos``
    raises; Redis then searches with a NaN box, which every comparison below ignores."""
    return math.cos(x) if math.isfinite(x) else math.nan


def bounding_box(shape: Shape) -> tuple[float, float, float, float]:
    """``geohashBoundingBox``: (min long, min lat, max long, max lat) of the search area."""
    longitude, latitude = shape.x, shape.y
    if shape.box:
        height = shape.conversion * (shape.height / 2)
        width = shape.conversion * (shape.width / 2)
    else:
        height = width = shape.conversion * shape.radius
    lat_delta = (height / EARTH_RADIUS_IN_METERS) / D_R
    long_delta_top = (width / EARTH_RADIUS_IN_METERS / _c_cos((latitude + lat_delta) * D_R)) / D_R
    long_delta_bottom = (width / EARTH_RADIUS_IN_METERS
                         / _c_cos((latitude - lat_delta) * D_R)) / D_R
    southern = latitude < 0
    delta = long_delta_bottom if southern else long_delta_top
    return (longitude - delta, latitude - lat_delta, longitude + delta, latitude + lat_delta)


_X_BITS = 0xAAAAAAAAAAAAAAAA  # longitude bits of an interleaved hash; latitude: the others
_Y_BITS = 0x5555555555555555


def _move(bits: int, step: int, d: int, axis: int) -> int:
    """The neighbouring cell of ``bits`` one step along ``axis`` (``_X_BITS`` east/west,
    ``_Y_BITS`` north/south), ``d`` > 0 forward (Redis's ``geohash_move_x`` / ``_y``)."""
    other = axis ^ _U64
    moved = bits & axis
    kept = bits & other
    zz = other >> (64 - step * 2)
    if d > 0:
        moved = moved + (zz + 1)
    else:
        moved = moved | zz
        moved = moved - (zz + 1)
    moved &= axis >> (64 - step * 2)
    return (moved | kept) & _U64


def _move_x(bits: int, step: int, d: int) -> int:
    return _move(bits, step, d, _X_BITS)


def _move_y(bits: int, step: int, d: int) -> int:
    return _move(bits, step, d, _Y_BITS)


def _neighbours(bits: int, step: int) -> dict[str, int]:
    east, west = _move_x(bits, step, 1), _move_x(bits, step, -1)
    north, south = _move_y(bits, step, 1), _move_y(bits, step, -1)
    return {
        "north": north, "south": south, "east": east, "west": west,
        "north_east": _move_y(east, step, 1), "north_west": _move_y(west, step, 1),
        "south_east": _move_y(east, step, -1), "south_west": _move_y(west, step, -1),
    }


_ORDER = ("north", "south", "east", "west", "north_east", "north_west", "south_east",
          "south_west")


def search_ranges(shape: Shape) -> list[tuple[int, int]]:
    """The score ranges ``[min, max)`` to scan, in Redis's order (centre, N, S, E, W, NE, NW,
    SE, SW), skipping excluded cells and a cell equal to the one scanned just before
    (``geohashCalculateAreasByShapeWGS84`` + ``membersOfAllNeighbors``)."""
    min_lon, min_lat, max_lon, max_lat = bounding_box(shape)
    if shape.box:
        radius_meters = math.sqrt((shape.width / 2) * (shape.width / 2)
                                  + (shape.height / 2) * (shape.height / 2))
    else:
        radius_meters = shape.radius
    radius_meters *= shape.conversion
    steps = estimate_steps(radius_meters, shape.y)
    bits = encode(shape.x, shape.y, steps)
    near = _neighbours(bits, steps)
    north = decode_area(near["north"], steps)
    south = decode_area(near["south"], steps)
    east = decode_area(near["east"], steps)
    west = decode_area(near["west"], steps)
    decrease = (north[3] < max_lat or south[2] > min_lat or east[1] < max_lon
                or west[0] > min_lon)
    if steps > 1 and decrease:
        steps -= 1
        bits = encode(shape.x, shape.y, steps)
        near = _neighbours(bits, steps)
    area = decode_area(bits, steps)
    zeroed: set[str] = set()
    if steps >= 2:
        if area[2] < min_lat:
            zeroed.update(("south", "south_west", "south_east"))
        if area[3] > max_lat:
            zeroed.update(("north", "north_east", "north_west"))
        if area[0] < min_lon:
            zeroed.update(("west", "south_west", "north_west"))
        if area[1] > max_lon:
            zeroed.update(("east", "south_east", "north_east"))
    cells: list[int | None] = [bits, *(None if name in zeroed else near[name]
                                       for name in _ORDER)]
    ranges: list[tuple[int, int]] = []
    shift = 52 - steps * 2
    last = 0  # index of the cell scanned last; as in Redis, 0 (the centre) compares as unset
    for i, cell in enumerate(cells):
        # A zeroed neighbour has bits 0 and step 0 (HASHISZERO); the centre never does.
        if cell is None:
            continue
        if last and cell == cells[last]:
            continue
        ranges.append((cell << shift, (cell + 1) << shift))
        last = i
    return ranges
