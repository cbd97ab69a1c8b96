"""LATENCY DOCTOR, GRAPH and HISTOGRAM against redis-server 7.0: the same scenario on both,
transcripts compared with measured numbers (milliseconds, microsecond buckets) masked."""

from __future__ import annotations

import re

import pytest

from tests.diff import assert_same

# A script that runs for ~30 ms on both servers: a "command" latency event.
SPIN = ("local s = redis.call('TIME') local t0 = s[1] * 1e6 + s[2] repeat "
        "local n = redis.call('TIME') until (n[1] * 1e6 + n[2]) - t0 > 30000 return 1")
# Advice that depends on the machine (THP) or on the load (a fast command preempted for
# 10 ms on a busy test machine is a "fast-command" spike): removed before comparing.
_NOISE = re.compile(rb"- I detected a non zero amount of anonymous huge pages.*?created\.\n"
                    rb"|\d+\. fast-command: [^\n]*\n"
                    rb"|- The system is slow to execute Redis code paths.*?problems\.\n", re.S)


def _masked(text):
    if not isinstance(text, bytes):
        return text
    return re.sub(rb"\d+", b"N", _NOISE.sub(b"", text))


def _histogram_shape(reply):
    """{command: (calls, number of buckets > 0, cumulative counts end at calls)}"""
    if isinstance(reply, list):  # RESP2: flat pairs
        reply = {reply[i]: dict(zip(reply[i + 1][::2], reply[i + 1][1::2], strict=True))
                 for i in range(0, len(reply), 2)}
    out = {}
    for name, cdf in reply.items():
        buckets = cdf[b"histogram_usec"]
        if isinstance(buckets, list):
            buckets = dict(zip(buckets[::2], buckets[1::2], strict=True))
        counts = list(buckets.values())
        out[name] = (cdf[b"calls"], counts == sorted(counts), counts[-1] == cdf[b"calls"])
    return out


@pytest.mark.parametrize("resp3", [False, True])
def test_latency_doctor_graph_histogram(ports, resp3):
    def scenario(port, client):
        c = client(resp3)
        c.call("LATENCY", "RESET")
        c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
        out = [c.call("LATENCY", "DOCTOR"), c.call("LATENCY", "GRAPH", "command")]
        try:
            c.call("CONFIG", "SET", "latency-monitor-threshold", "10")
            out.append(_masked(c.call("LATENCY", "DOCTOR")))
            c.call("CONFIG", "RESETSTAT")
            out.append(c.call("EVAL", SPIN, "0"))
            out += [_masked(c.call("LATENCY", "DOCTOR")),
                    _masked(c.call("LATENCY", "GRAPH", "command")),
                    c.call("LATENCY", "GRAPH", "nope"), c.call("LATENCY", "GRAPH"),
                    len(c.call("LATENCY", "HISTORY", "command"))]
            c.call("GET", "a")
            c.call("GET", "b")
            out.append(_histogram_shape(c.call("LATENCY", "HISTOGRAM", "get", "EVAL",
                                               "nosuchcommand", "config|set")))
            out.append(_histogram_shape(c.call("LATENCY", "HISTOGRAM", "config")))
            out.append(c.call("LATENCY", "HISTOGRAM", "never-run", "hset"))
            c.call("CONFIG", "SET", "latency-tracking", "no")
            c.call("HGET", "h", "f")
            out.append(c.call("LATENCY", "HISTOGRAM", "hget"))
        finally:
            c.call("CONFIG", "SET", "latency-tracking", "yes")
            c.call("CONFIG", "SET", "latency-monitor-threshold", "0")
            c.call("LATENCY", "RESET")
        return out

    out = assert_same(ports, scenario)
    assert b"N. command: N latency spikes" in out[4]


def test_histogram_buckets_are_redis_labels(ports):
    """Fast commands land in Redis's first buckets (1, 2, 4, 8, 16, 33 us ...)."""
    def scenario(port, client):
        c = client()
        c.call("CONFIG", "RESETSTAT")
        for _ in range(50):
            c.call("PING")
        reply = c.call("LATENCY", "HISTOGRAM", "ping")
        buckets = reply[1][3]
        labels = set(buckets[::2])
        return [reply[0], reply[1][1], labels <= {1, 2, 4, 8, 16, 33, 66, 132, 264, 528, 1056,
                                                  2113, 4227, 8454, 16909}]

    assert assert_same(ports, scenario) == [b"ping", 50, True]


def test_info_latencystats_shape(ports):
    def scenario(port, client):
        c = client()
        c.call("CONFIG", "RESETSTAT")
        c.call("SET", "a", "1")
        c.call("GET", "a")
        c.call("GET", "a")
        out = []
        try:
            for percentiles in ("50 99 99.9", "50 99.99 0", "100"):
                c.call("CONFIG", "SET", "latency-tracking-info-percentiles", percentiles)
                text = c.call("INFO", "latencystats")
                lines = [line for line in text.split(b"\r\n")
                         if line.startswith((b"latency_percentiles_usec_get:",
                                             b"latency_percentiles_usec_set:", b"#"))]
                out.append(sorted(re.sub(rb"=\d+\.\d{3}", b"=N.NNN", line) for line in lines))
            out.append(b"latency_percentiles" in c.call("INFO"))
        finally:
            c.call("CONFIG", "SET", "latency-tracking-info-percentiles", "50 99 99.9")
        return out

    out = assert_same(ports, scenario)
    assert out[0][1] == b"latency_percentiles_usec_get:p50=N.NNN,p99=N.NNN,p99.9=N.NNN"
