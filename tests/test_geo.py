"""GEO commands on ledis through redis-py: GEO sets are sorted sets, reply shapes in RESP2 and
RESP3, scripts, STORE variants and the command table. (Exact agreement with Redis is checked
in test_geo_diff.py.)"""

from __future__ import annotations

import math
import random

import pytest

PALERMO = (13.361389, 38.115556)
CATANIA = (15.087269, 37.502669)


def _sicily(client):
    return client.geoadd("Sicily", [*PALERMO, "Palermo", *CATANIA, "Catania"])


def test_geo_set_is_a_sorted_set(r):
    assert _sicily(r) == 2
    assert r.type("Sicily") == b"zset"
    # The score is the 52-bit interleaved geohash, an exact integer.
    assert r.zscore("Sicily", "Palermo") == 3479099956230698
    assert r.zcard("Sicily") == 2
    assert r.zrem("Sicily", "Catania") == 1
    assert r.geopos("Sicily", "Catania") == [None]
    # ZADD of a geohash integer is a GEO position too.
    r.zadd("Sicily", {"Copy": 3479099956230698})
    assert r.geodist("Sicily", "Palermo", "Copy") == 0.0


def test_positions_distances_hashes(r):
    _sicily(r)
    (lon, lat), missing = r.geopos("Sicily", "Palermo", "nosuch")
    assert missing is None
    assert abs(lon - PALERMO[0]) < 1e-5 and abs(lat - PALERMO[1]) < 1e-5
    assert r.geodist("Sicily", "Palermo", "Catania") == 166274.1516
    assert r.geodist("Sicily", "Palermo", "Catania", "km") == 166.2742
    assert r.geohash("Sicily", "Palermo", "Catania", "x") == ["sqc8b49rny0", "sqdtr74hyu0",
                                                              None]


def test_reply_shapes_resp2(server):
    client = server.client(protocol=2)
    client.response_callbacks.clear()  # the replies as sent, not redis-py's conversions
    client.flushall()
    _sicily(client)
    raw = client.execute_command("GEOPOS", "Sicily", "Palermo")
    assert raw == [[b"13.36138933897018433", b"38.11555639549629859"]]
    rows = client.execute_command("GEORADIUS", "Sicily", "15", "37", "200", "km", "WITHDIST",
                                  "WITHHASH", "WITHCOORD", "ASC")
    assert rows[0][0] == b"Catania" and rows[0][1] == b"56.4413"
    assert rows[0][2] == 3479447370796909
    assert rows[0][3] == [b"15.08726745843887329", b"37.50266842333162032"]
    assert client.execute_command("GEODIST", "Sicily", "Palermo", "Catania") == b"166274.1516"
    client.close()


def test_reply_shapes_resp3(r3):
    r3.response_callbacks.clear()
    _sicily(r3)
    # Coordinates are RESP3 doubles, distances stay strings (as Redis 7.0).
    raw = r3.execute_command("GEOPOS", "Sicily", "Palermo")
    assert raw == [[13.361389338970184, 38.1155563954963]]
    rows = r3.execute_command("GEOSEARCH", "Sicily", "FROMLONLAT", "15", "37", "BYRADIUS",
                              "200", "km", "WITHDIST", "WITHCOORD", "ASC")
    assert rows[0][0] == b"Catania" and rows[0][1] == b"56.4413"
    assert rows[0][2] == [15.087267458438873, 37.50266842333162]
    assert r3.execute_command("GEOPOS", "Sicily", "nosuch") == [None]


def test_search_orders_and_count(r):
    rng = random.Random(3)
    points = []
    for i in range(300):
        points += [rng.uniform(2.0, 2.6), rng.uniform(48.6, 49.0), f"p{i}"]
    r.geoadd("paris", points)
    rows = r.geosearch("paris", longitude=2.35, latitude=48.85, radius=10, unit="km",
                       withdist=True, sort="ASC")
    dists = [d for _, d in rows]
    assert dists == sorted(dists) and dists and all(d <= 10 for d in dists)
    found = {m for m, _ in rows}
    desc = r.geosearch("paris", longitude=2.35, latitude=48.85, radius=10, unit="km",
                       sort="DESC", count=5)
    assert desc == [m for m, _ in rows[::-1][:5]]
    closest = r.geosearch("paris", longitude=2.35, latitude=48.85, radius=10, unit="km",
                          count=3)
    assert closest == [m for m, _ in rows[:3]]
    anyway = r.geosearch("paris", longitude=2.35, latitude=48.85, radius=10, unit="km",
                         count=3, any=True)
    assert len(anyway) == 3 and set(anyway) <= found
    # Every member within 10 km is found (checked against GEODIST from a probe member).
    r.geoadd("paris", [2.35, 48.85, "probe"])
    inside = {m for m in r.zrange("paris", 0, -1)
              if m != b"probe" and r.geodist("paris", "probe", m, "km") <= 10}
    assert len(found ^ inside) <= 2  # the probe sits on its cell centre, not exactly 2.35
    box = r.geosearch("paris", longitude=2.35, latitude=48.85, width=4, height=2, unit="km",
                      withcoord=True)
    for _, (lon, lat) in box:
        assert abs(lat - 48.85) * 111.2 <= 1.01
        assert abs(lon - 2.35) * 111.2 * math.cos(math.radians(48.85)) <= 2.01


def test_store_variants(r):
    _sicily(r)
    r.set("dst", "old")
    r.expire("dst", 100)
    assert r.geosearchstore("dst", "Sicily", longitude=15, latitude=37, radius=200,
                            unit="km") == 2
    assert r.type("dst") == b"zset" and r.ttl("dst") == -1
    assert r.zscore("dst", "Palermo") == r.zscore("Sicily", "Palermo")
    assert r.geosearchstore("dst", "Sicily", longitude=15, latitude=37, radius=200, unit="km",
                            storedist=True) == 2
    assert r.zscore("dst", "Catania") == pytest.approx(56.4413, abs=1e-4)
    assert r.georadius("Sicily", 15, 37, 200, unit="km", store_dist="d2") == 2
    assert r.zrange("d2", 0, -1) == [b"Catania", b"Palermo"]
    # An empty result deletes the destination.
    assert r.georadius("Sicily", 0, 0, 1, unit="km", store="d2") == 0
    assert r.exists("d2") == 0
    assert r.georadiusbymember("nokey", "x", 1, unit="km", store="dst") == 0
    assert r.exists("dst") == 0


def test_errors(r):
    import redis

    with pytest.raises(redis.ResponseError, match="invalid longitude,latitude pair "
                                                  "200.000000,10.000000"):
        r.geoadd("k", [200, 10, "a"])
    r.set("s", "x")
    with pytest.raises(redis.ResponseError, match="WRONGTYPE"):
        r.geopos("s", "a")
    _sicily(r)
    with pytest.raises(redis.ResponseError, match="could not decode requested zset member"):
        r.geosearch("Sicily", member="nosuch", radius=1)
    with pytest.raises(redis.ResponseError, match="unsupported unit"):
        r.execute_command("GEODIST", "Sicily", "Palermo", "Catania", "yd")
    assert r.exists("k") == 0  # nothing written by a failed GEOADD


def test_scripts_and_command_table(r):
    _sicily(r)
    pos = r.eval("return redis.call('GEOPOS', KEYS[1], 'Palermo')", 1, "Sicily")
    assert pos == [[b"13.36138933897018433", b"38.11555639549629859"]]
    dist = r.eval("return redis.call('GEODIST', KEYS[1], 'Palermo', 'Catania', 'km')", 1,
                  "Sicily")
    assert dist == b"166.2742"
    r.response_callbacks.clear()
    info = r.execute_command("COMMAND", "INFO", "geosearchstore", "georadius", "geopos")
    by_name = {row[0]: row for row in info}
    assert by_name[b"geosearchstore"][1:6] == [-8, [b"write", b"denyoom"], 1, 2, 1]
    assert b"movablekeys" in by_name[b"georadius"][2]
    assert by_name[b"geopos"][1:3] == [-2, [b"readonly"]]
