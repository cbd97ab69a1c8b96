"""client-query-buffer-limit, proto-max-bulk-len and the multibulk count limits: the same
bytes sent to ledis and to a stock redis-server get the same reply and the same close."""

from __future__ import annotations

import socket
import time

import pytest
import redis

from tests.fuzz.common import exchange, ping, rss_bytes
from tests.helpers import have_redis_server

needs_redis = pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")

SET_HEADER = b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n"


@needs_redis
def test_config_get_set_matches_redis(server, redis_server):
    seen = []
    for port in (server.port, redis_server.port):
        c = redis.Redis(port=port)
        steps = [c.config_get("client-query-buffer-limit")]
        for value in ("1000", "abc", "-1", "9223372036854775808"):
            with pytest.raises(redis.ResponseError) as info:
                c.config_set("client-query-buffer-limit", value)
            steps.append(str(info.value))
        c.config_set("client-query-buffer-limit", "2mb")
        steps.append(c.config_get("client-query-buffer-limit"))
        c.config_set("client-query-buffer-limit", "1gb")
        steps.append(c.config_get("client-query-buffer-limit"))
        seen.append(steps)
        c.close()
    assert seen[0] == seen[1]
    assert seen[0][0] == {"client-query-buffer-limit": "1073741824"}
    assert seen[0][-2] == {"client-query-buffer-limit": "2097152"}


@needs_redis
def test_over_the_limit_is_closed_without_reply_like_redis(fresh_server, redis_server):
    srv = fresh_server()
    data = SET_HEADER + b"$4194304\r\n" + b"y" * (2 * 1024 * 1024)
    pipeline = b"".join(SET_HEADER.replace(b"$1\r\nk", b"$2\r\nk%d" % i)
                        + b"$600000\r\n" + b"v" * 600000 + b"\r\n" for i in range(3))
    results = []
    for port in (srv.port, redis_server.port):
        c = redis.Redis(port=port)
        c.config_set("client-query-buffer-limit", "1mb")
        c.delete("k")  # the redis-server is shared: an earlier test may have left a "k"
        try:
            # one request still arriving past 1mb: closed, no reply; a pipeline of complete
            # requests bigger than the limit in total is fine
            results.append((exchange(port, data), exchange(port, pipeline)[0], c.exists("k")))
        finally:
            c.config_set("client-query-buffer-limit", "1gb")
            c.close()
    assert results[0] == results[1]
    assert results[0] == ((b"", True), b"+OK\r\n" * 3, 0)
    assert "Closing client that reached max query buffer length" in srv.log()
    # the limit is read per read: raised again, the same request goes through
    assert exchange(srv.port, data + b"y" * (2 * 1024 * 1024) + b"\r\n")[0] == b"+OK\r\n"


def test_limit_from_the_yaml_file(fresh_server, tmp_path):
    config = tmp_path / "ledis.yaml"
    config.write_text("client_query_buffer_limit: 1048576\n")
    srv = fresh_server(config=str(config))
    c = srv.client()
    assert c.config_get("client-query-buffer-limit") == {"client-query-buffer-limit": "1048576"}
    assert exchange(srv.port, SET_HEADER + b"$2000000\r\n" + b"y" * 1500000) == (b"", True)
    assert c.ping()


MALFORMED_LIMITS = [
    b"*2147483648\r\n",  # multibulk count past INT_MAX
    # a count below -1 is an empty request to Redis (hiredis calls it out of range):
    # found by the fuzzer, ledis closed the connection with an error
    b"*-2147483649\r\nPING\r\n",
    b"*-5\r\nPING\r\n",
    b"PING\r\n*-7\r\n*1\r\n$4\r\nPING\r\n",
    b"*-9223372036854775808\r\nPING\r\n",
    b"*-9223372036854775809\r\nPING\r\n",  # not a long long: invalid
    b"*-05\r\nPING\r\n",
    b"*-5 \r\nPING\r\n",
    b"*99999999999999999999999\r\n",
    b"*1\r\n$536870913\r\n",  # proto-max-bulk-len + 1
    b"*1\r\n$-2\r\n",
    b"*1\r\n$99999999999999999999999\r\n",
    b"*1048577\r\n$4\r\nPING\r\n",  # a big count is fine: the request is just incomplete
    b"*2\r\n$4\r\nECHO\r\n$536870912\r\nxyz",  # 512 MB header, no body: waits
]


@needs_redis
@pytest.mark.parametrize("data", MALFORMED_LIMITS, ids=lambda d: repr(d[:24]))
def test_count_and_length_limits_match_redis(server, redis_server, data):
    ours = exchange(server.port, data, wait=1.5)
    assert ours == exchange(redis_server.port, data, wait=1.5)
    if b"536870913" in data or b"2147483648" in data:
        assert ours[0] == b"-ERR Protocol error: invalid bulk length\r\n" or ours[0] == (
            b"-ERR Protocol error: invalid multibulk length\r\n")


def test_512mb_header_then_trickle_does_not_allocate_up_front(fresh_server):
    srv = fresh_server()
    pid = srv.proc.pid
    assert ping(srv.port) < 5
    base = rss_bytes(pid)
    sock = socket.create_connection(("127.0.0.1", srv.port))
    try:
        sock.sendall(b"*3\r\n$3\r\nSET\r\n$1\r\nt\r\n$536870912\r\n")
        for _ in range(40):  # 40 x 64 KB trickled, another client pinging in between
            sock.sendall(b"z" * 65536)
            time.sleep(0.01)
            ping(srv.port)
        time.sleep(0.2)
        grown = rss_bytes(pid) - base
        # 2.5 MB arrived; 512 MB reserved up front would show as hundreds of MB
        assert grown < 64 * 1024 * 1024, grown
    finally:
        sock.close()
    assert srv.client().exists("t") == 0
