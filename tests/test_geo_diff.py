"""Differential tests: GEO commands against ledis and a real redis-server, compared as the
bytes each server writes (RESP2 and RESP3), so positions, distances, hashes and the order of
search results must match to the last digit.

Random points are distinct, so no two members are at the same distance from a centre: Redis
sorts with qsort (pqsort with COUNT), whose order of equal distances is unspecified. Ties are
covered separately, compared as sets.
"""

from __future__ import annotations

import random

import hiredis
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SICILY = ("GEOADD", "Sicily", "13.361389", "38.115556", "Palermo", "15.087269", "37.502669",
          "Catania", "12.758489", "38.788135", "edge1", "17.241510", "38.222625", "edge2")

SCRIPT = [
    SICILY,
    ("GEOPOS", "Sicily", "Palermo", "Catania", "nosuch"),
    ("GEOHASH", "Sicily", "Palermo", "Catania", "nosuch"),
    ("GEODIST", "Sicily", "Palermo", "Catania"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "km"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "MI"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "ft"),
    ("GEODIST", "Sicily", "Palermo", "nosuch"),
    ("GEODIST", "nokey", "a", "b"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "parsec"),
    ("GEODIST", "Sicily", "Palermo", "Catania", "km", "x"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "WITHCOORD", "WITHHASH"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST", "DESC"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "2", "DESC", "WITHDIST"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "COUNT", "1", "ANY"),
    ("GEORADIUS_RO", "Sicily", "15", "37", "200", "km", "WITHCOORD"),
    ("GEORADIUSBYMEMBER", "Sicily", "Palermo", "200", "km", "WITHDIST", "ASC"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "100", "mi", "WITHHASH"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "300", "km", "ASC",
     "WITHDIST", "WITHCOORD"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km", "DESC",
     "WITHHASH"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "200", "200", "km"),
    # an infinite radius or box: Redis searches with a NaN bounding box (cos of infinity)
    ("GEORADIUS", "Sicily", "15", "0", "+inf", "m", "WITHDIST", "COUNT", "2"),
    ("GEORADIUSBYMEMBER_RO", "Sicily", "Palermo", "inf", "km", "DESC"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "inf", "inf", "km", "ASC"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "inf", "1", "km"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "1", "2", "BYBOX", "1", "inf", "km"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMLONLAT", "15", "37", "BYBOX", "400", "400", "km",
     "ASC", "COUNT", "3", "STOREDIST"),
    ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ("GEOSEARCHSTORE", "dst", "Sicily", "FROMMEMBER", "Catania", "BYRADIUS", "200", "km"),
    ("ZRANGE", "dst", "0", "-1", "WITHSCORES"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STORE", "st"),
    ("ZRANGE", "st", "0", "-1", "WITHSCORES"),
    ("GEORADIUS", "Sicily", "15", "37", "200", "km", "STOREDIST", "st"),
    ("ZRANGE", "st", "0", "-1", "WITHSCORES"),
    ("GEORADIUS", "Sicily", "0", "0", "1", "km", "STORE", "st"),  # empty: deletes
    ("EXISTS", "st"),
    ("GEORADIUSBYMEMBER", "nokey", "x", "-5", "km", "STORE", "dst"),  # missing: deletes
    ("EXISTS", "dst"),
    ("GEOSEARCH", "nokey", "FROMMEMBER", "x", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "nokey", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
    # GEOADD flags and edges
    ("GEOADD", "k", "CH", "180", "85.05112878", "a", "-180", "-85.05112878", "b", "0", "0", "c"),
    ("GEOPOS", "k", "a", "b", "c"),
    ("GEOHASH", "k", "a", "b", "c"),
    ("GEOADD", "k", "XX", "CH", "1", "1", "a", "2", "2", "z"),
    ("GEOADD", "k", "NX", "CH", "1", "2", "a", "2", "2", "z"),
    ("GEOADD", "k", "1", "2", "a"),
    ("GEOPOS", "k", "a", "z"),
    ("GEOSEARCH", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "20000", "km", "WITHCOORD",
     "WITHDIST", "ASC"),
    ("GEOSEARCH", "k", "FROMLONLAT", "0", "0", "BYRADIUS", "0", "km", "WITHDIST"),
    ("ZSCORE", "k", "a"),
    # scores no GEOADD writes: C's (uint64_t) of them decides the cell
    ("ZADD", "odd", "inf", "a", "-inf", "b", "1e20", "c", "-1e20", "d",
     "18446744073709551616", "e", "18446744073709549568", "f", "9223372036854775808", "g",
     "1.5", "h", "-2", "i"),
    ("GEOPOS", "odd", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
    ("GEOHASH", "odd", "a", "b", "c", "d", "e", "f", "g", "h", "i"),
    ("GEODIST", "odd", "a", "c"),
    ("TYPE", "k"),
    # errors
    ("GEOADD", "k", "200", "10", "a"),
    ("GEOADD", "k", "10", "86", "a"),
    ("GEOADD", "k", "inf", "1", "a"),
    ("GEOADD", "k", "-180.0000001", "1", "a"),
    ("GEOADD", "k", "XX", "NX", "1", "1", "a"),
    ("GEOADD", "k", "x", "1", "a"),
    ("GEOADD", "k", "1.5", "2.5", "a", "3"),
    ("GEOADD", "k", "CH", "NX", "XX"),
    ("GEOADD", "k", "GT", "1", "1", "a"),
    ("GEORADIUS", "Sicily", "15", "37", "-1", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "x", "km"),
    ("GEORADIUS", "Sicily", "15", "37", "1", "parsec"),
    ("GEORADIUS", "Sicily", "15", "37", "100", "km", "COUNT", "0"),
    ("GEORADIUS", "Sicily", "15", "37", "100", "km", "COUNT", "x"),
    ("GEORADIUS", "Sicily", "15", "37", "100", "km", "ANY"),
    ("GEORADIUS", "Sicily", "15", "37", "100", "km", "STORE", "d", "WITHDIST"),
    ("GEORADIUS", "Sicily", "15", "37", "100", "km", "BADOPT"),
    ("GEORADIUS_RO", "Sicily", "15", "37", "100", "km", "STORE", "x"),
    ("GEORADIUSBYMEMBER", "Sicily", "nosuch", "1", "km"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "100", "km",
     "WITHDIST"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "nosuch", "BYRADIUS", "1", "km"),
    ("GEOSEARCH", "Sicily", "BYBOX", "-1", "1", "km", "FROMMEMBER", "Palermo"),
    ("GEOSEARCH", "Sicily", "BYBOX", "x", "1", "km", "FROMMEMBER", "Palermo"),
    ("GEOSEARCH", "Sicily", "BYBOX", "1", "x", "km", "FROMMEMBER", "Palermo"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "FROMLONLAT", "1", "1", "BYRADIUS", "1",
     "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "BYBOX", "1", "1",
     "km"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STORE", "x"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km", "STOREDIST"),
    ("GEOSEARCH", "Sicily", "WITHDIST", "ASC", "COUNT", "2", "DESC"),
    ("GEOSEARCH", "Sicily", "FROMMEMBER", "Palermo", "WITHDIST", "ASC"),
    ("GEOSEARCH", "Sicily", "BYRADIUS", "1", "km", "WITHDIST", "ASC"),
    ("GEOSEARCH", "Sicily", "FROMLONLAT", "200", "1", "BYRADIUS", "1", "km"),
    ("GEOSEARCHSTORE", "d", "Sicily", "FROMMEMBER", "Palermo", "BYRADIUS", "1", "km",
     "STOREDIST", "x"),
    ("SET", "s", "x"),
    ("GEOADD", "s", "1", "1", "a"),
    ("GEOPOS", "s", "a"),
    ("GEOHASH", "s", "a"),
    ("GEODIST", "s", "a", "b"),
    ("GEOSEARCH", "s", "FROMMEMBER", "x", "BYRADIUS", "-1", "km"),
    ("GEORADIUS", "s", "200", "1", "1", "km"),
    ("GEOSEARCHSTORE", "s2", "s", "FROMLONLAT", "0", "0", "BYRADIUS", "1", "km"),
]


def test_script(wire_pair):
    for args in SCRIPT:
        wire_pair.same(*args)


def _random_points(rng: random.Random, n: int, lon: float, lat: float, spread: float) -> list:
    args: list = []
    for i in range(n):
        x = min(180.0, max(-180.0, lon + rng.uniform(-spread, spread)))
        y = min(85.05, max(-85.05, lat + rng.uniform(-spread, spread)))
        args += [f"{x:.6f}", f"{y:.6f}", f"m{i}"]
    return args


UNITS = ["m", "km", "ft", "mi", "KM"]


@pytest.mark.parametrize("seed", range(6))
def test_random_searches(wire_pair, seed):
    """Many random points and many radii / boxes around random centres: same members, same
    order, same distances, hashes and coordinates."""
    rng = random.Random(seed)
    # Clusters near the equator, mid latitudes, the poles' limit and the antimeridian.
    lon, lat = rng.choice([(0, 0), (13, 45), (-73, 40), (179.5, -30), (-179.9, 70),
                           (30, 84), (100, -83)])
    spread = rng.choice([0.01, 0.5, 5, 40])
    wire_pair.same("GEOADD", "g", *_random_points(rng, 150, lon, lat, spread))
    found = searches = 0
    for _ in range(40):
        cx = min(180.0, max(-180.0, lon + rng.uniform(-spread, spread)))
        cy = min(85.05, max(-85.05, lat + rng.uniform(-spread, spread)))
        unit = rng.choice(UNITS)
        meters = spread * 111_000 * rng.choice([0.01, 0.1, 0.5, 1, 3])
        size = meters / {"m": 1, "km": 1000, "ft": 0.3048, "mi": 1609.34, "KM": 1000}[unit]
        extra = rng.sample(["WITHDIST", "WITHCOORD", "WITHHASH"], rng.randint(0, 3))
        order = rng.choice([[], ["ASC"], ["DESC"]])
        count = rng.choice([[], [], ["COUNT", str(rng.randint(1, 20))]])
        if rng.random() < 0.5:
            shape = ["BYRADIUS", f"{size:.3f}", unit]
        else:
            shape = ["BYBOX", f"{size:.3f}", f"{size * rng.uniform(0.2, 3):.3f}", unit]
        if rng.random() < 0.5:
            origin = ["FROMLONLAT", f"{cx:.6f}", f"{cy:.6f}"]
        else:
            origin = ["FROMMEMBER", f"m{rng.randrange(150)}"]
        wire_pair.same("GEOSEARCH", "g", *origin, *shape, *order, *count, *extra)
        if shape[0] == "BYRADIUS":
            wire_pair.same("GEORADIUS", "g", f"{cx:.6f}", f"{cy:.6f}", *shape[1:], *order,
                           *count, *extra)
        wire_pair.same("GEOSEARCHSTORE", "out", "g", *origin, *shape, *order, *count,
                       *rng.choice([[], ["STOREDIST"]]))
        wire_pair.same("ZRANGE", "out", "0", "-1", "WITHSCORES")
        stored = wire_pair.same("ZCARD", "out")
        found += int(stored[1:-2])
        searches += 1
    assert found > searches, "the searches should find members, not only empty results"
    members = [f"m{i}" for i in range(0, 150, 7)]
    wire_pair.same("GEOPOS", "g", *members)
    wire_pair.same("GEOHASH", "g", *members)
    for _ in range(20):
        a, b = rng.sample(members, 2)
        wire_pair.same("GEODIST", "g", a, b, rng.choice(UNITS))


def test_ties_compared_as_sets(wire_pair):
    """Members at the same position are at the same distance: Redis orders them as its qsort
    happens to, so only the set of results and the distances are compared."""
    led, ref = wire_pair
    args = []
    for i in range(12):
        args += ["2.5", "48.1", f"same{i}"]
    args += ["2.6", "48.2", "other"]
    wire_pair.same("GEOADD", "t", *args)
    for extra in ([], ["COUNT", "20"], ["DESC"]):
        cmd = ("GEOSEARCH", "t", "FROMLONLAT", "2.5", "48.15", "BYRADIUS", "50", "km",
               "WITHDIST", *extra)
        got = hiredis.Reader()
        got.feed(led.call(*cmd))
        want = hiredis.Reader()
        want.feed(ref.call(*cmd))
        mine, theirs = got.gets(), want.gets()
        assert sorted(map(tuple, mine)) == sorted(map(tuple, theirs))
        assert [d for _, d in mine] == [d for _, d in theirs]


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lon=st.floats(-180, 180), lat=st.floats(-85.05112878, 85.05112878),
       radius=st.floats(0, 3_000_000), box=st.booleans())
def test_hypothesis_positions_and_search(wire_pair, lon, lat, radius, box):
    """Any valid position round-trips to the same cell centre, hash and distances, and a
    search around it finds the same members in the same order."""
    wire_pair.same("GEOADD", "h", repr(lon), repr(lat), "p")
    wire_pair.same("GEOPOS", "h", "p")
    wire_pair.same("GEOHASH", "h", "p")
    wire_pair.same("GEODIST", "h", "p", "Palermo")
    shape = ("BYBOX", repr(radius), repr(radius / 2), "m") if box else ("BYRADIUS", repr(radius),
                                                                         "m")
    wire_pair.same("GEOSEARCH", "h", "FROMLONLAT", repr(lon), repr(lat), *shape, "WITHDIST",
                   "ASC")


@pytest.fixture(autouse=True)
def _seed_fixed_points(request):
    """The hypothesis test needs a second member to measure distances to."""
    if request.node.name.startswith("test_hypothesis"):
        wire_pair = request.getfixturevalue("wire_pair")
        rng = random.Random(7)
        wire_pair.same("GEOADD", "h", "13.361389", "38.115556", "Palermo",
                       *_random_points(rng, 200, 0, 0, 90))
    yield
