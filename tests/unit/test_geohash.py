"""The geohash arithmetic (ledis/geohash.py) without a server: encoding round trips, and the
search cells that bound what a GEO search reads from the sorted set."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from ledis import geohash

lons = st.floats(-180, 180)
lats = st.floats(geohash.LAT_MIN, geohash.LAT_MAX)


def test_known_position():
    # Values Redis 7.0 gives for GEOADD Sicily 13.361389 38.115556 Palermo.
    score = geohash.score_of(13.361389, 38.115556)
    assert score == 3479099956230698
    assert geohash.geohash_string(score) == b"sqc8b49rny0"
    lon, lat = geohash.decode_score(score)
    assert b"%.17f" % lon == b"13.36138933897018433"
    assert b"%.17f" % lat == b"38.11555639549629859"


@given(lons, lats)
def test_round_trip_stays_in_the_cell(lon, lat):
    score = geohash.score_of(lon, lat)
    if score >= 1 << 52:
        # At (or rounding to) the upper edges the offset is one cell past the grid, as in
        # Redis: bit 52 or 53 is set, and the position decodes clamped to the edge.
        dlon, dlat = geohash.decode_score(score)
        assert dlon == 180.0 or dlat == geohash.LAT_MAX
        return
    assert 0 <= score < 1 << 52
    dlon, dlat = geohash.decode_score(score)
    # A 52-bit cell is 360/2**26 degrees wide and 170.1/2**26 high.
    assert abs(dlon - lon) <= 360 / 2**26
    assert abs(dlat - lat) <= 170.2 / 2**26
    assert geohash.score_of(dlon, dlat) == score


@settings(max_examples=300)
@given(lons, lats, st.floats(1, 5_000_000), st.floats(0, 2 * math.pi), st.floats(0, 1))
def test_search_ranges_cover_the_radius(lon, lat, radius, angle, frac):
    """Any point within the radius has its score inside one of at most 9 scanned ranges, and
    the ranges are a small part of the whole score space for small radii."""
    shape = geohash.Shape()
    shape.x, shape.y, shape.radius = lon, lat, radius
    ranges = geohash.search_ranges(shape)
    assert 1 <= len(ranges) <= 9
    # A point at distance frac * radius in direction angle (flat approximation, then
    # filtered by the real distance so only true members are checked).
    dy = frac * radius * math.cos(angle) / 111_000
    dx = frac * radius * math.sin(angle) / (111_000 * max(math.cos(math.radians(lat)), 1e-6))
    plon, plat = lon + dx, lat + dy
    if not (-180 <= plon <= 180 and geohash.LAT_MIN <= plat <= geohash.LAT_MAX):
        return
    score = geohash.score_of(plon, plat)
    if shape.contains(*geohash.decode_score(score)) is None:
        return
    assert any(low <= score < high for low, high in ranges)
    if radius < 10_000:
        assert sum(high - low for low, high in ranges) < (1 << 52) // 1000
