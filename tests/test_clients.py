"""CLIENT subcommands, maxclients, idle timeout, and clients beyond sync redis-py."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time

import pytest

from tests.test_connection import error_of
from tests.test_protocol import exchange


def fields(line: bytes | str) -> dict[str, str]:
    if isinstance(line, bytes):
        line = line.decode()
    return dict(item.split("=", 1) for item in line.strip().split(" "))


def test_client_id_name(server):
    c = server.client(protocol=2)
    cid = c.client_id()
    assert isinstance(cid, int) and cid > 0
    assert c.client_getname() is None
    assert c.client_setname("worker-1") is True
    assert c.client_getname() in ("worker-1", b"worker-1")
    assert error_of(c, "CLIENT", "SETNAME", "a b") == (
        "Client names cannot contain spaces, newlines or special characters.")
    assert c.execute_command("CLIENT", "SETNAME", "") in (True, b"OK")
    assert c.client_getname() is None


def test_client_list_and_info(server):
    c = server.client(protocol=2)
    c.client_setname("lister")
    info = fields(c.execute_command("CLIENT", "INFO"))
    assert info["name"] == "lister"
    assert info["cmd"] == "client|info"
    assert info["id"] == str(c.client_id())
    for key in ("addr", "laddr", "fd", "age", "idle", "flags", "db", "sub", "psub", "multi",
                "qbuf", "omem", "events", "user", "resp"):
        assert key in info
    listing = c.execute_command("CLIENT", "LIST").decode().strip().split("\n")
    mine = [fields(x) for x in listing if fields(x)["name"] == "lister"]
    assert len(mine) == 1 and mine[0]["cmd"] == "client|list"
    by_id = c.execute_command("CLIENT", "LIST", "ID", str(c.client_id())).decode().strip()
    assert fields(by_id)["name"] == "lister"
    assert c.execute_command("CLIENT", "LIST", "TYPE", "pubsub") == b""
    assert error_of(c, "CLIENT", "LIST", "TYPE", "foo") == "Unknown client type 'foo'"
    assert error_of(c, "CLIENT", "LIST", "ID", "x") == "Invalid client ID"
    assert error_of(c, "CLIENT", "LIST", "foo") == "syntax error"


def test_client_list_fields_match_redis(server, redis_server):
    mine = list(fields(server.client(protocol=2).execute_command("CLIENT", "INFO")))
    theirs = list(fields(redis_server.client(protocol=2).execute_command("CLIENT", "INFO")))
    assert mine[:len(theirs)] == theirs


def test_client_kill(server):
    victim = socket.create_connection(("127.0.0.1", server.port))
    victim.sendall(b"CLIENT ID\r\n")
    victim_id = int(victim.recv(100)[1:-2])
    c = server.client(protocol=2)
    assert c.execute_command("CLIENT", "KILL", "ID", str(victim_id)) == 1
    victim.settimeout(5)
    assert victim.recv(100) == b""  # closed
    assert c.execute_command("CLIENT", "KILL", "ID", str(victim_id)) == 0
    assert error_of(c, "CLIENT", "KILL", "ID", "abc") == "client-id should be greater than 0"
    assert error_of(c, "CLIENT", "KILL", "TYPE", "foo") == "Unknown client type 'foo'"
    assert error_of(c, "CLIENT", "KILL", "foo", "bar") == "syntax error"
    assert error_of(c, "CLIENT", "KILL", "USER", "nobody") == "No such user 'nobody'"
    assert error_of(c, "CLIENT", "KILL", "1.2.3.4:5") == "No such client"


def test_client_kill_old_form_and_filters(server):
    a = socket.create_connection(("127.0.0.1", server.port))
    a_addr = "{}:{:d}".format(*a.getsockname())
    a.sendall(b"PING\r\n")
    assert a.recv(10) == b"+PONG\r\n"  # the server has accepted it
    c = server.client(protocol=2)
    assert c.execute_command("CLIENT", "KILL", a_addr) in (True, b"OK")
    a.settimeout(5)
    assert a.recv(10) == b""
    b = socket.create_connection(("127.0.0.1", server.port))
    b_addr = "{}:{:d}".format(*b.getsockname())
    b.sendall(b"PING\r\n")
    assert b.recv(10) == b"+PONG\r\n"
    assert c.execute_command("CLIENT", "KILL", "ADDR", b_addr, "SKIPME", "yes") == 1
    # SKIPME no on our own connection: the reply arrives, then the connection closes
    out, closed = exchange(server.port, b"CLIENT KILL LADDR 127.0.0.1:%d SKIPME no\r\n"
                           % server.port)
    assert out.startswith(b":") and closed
    assert c.ping() is True


def test_client_setinfo_no_evict(server):
    c = server.client(protocol=2)
    assert c.execute_command("CLIENT", "SETINFO", "LIB-NAME", "mylib") in (True, b"OK")
    assert c.execute_command("CLIENT", "SETINFO", "lib-ver", "1.2") in (True, b"OK")
    info = fields(c.execute_command("CLIENT", "INFO"))
    assert info["lib-name"] == "mylib" and info["lib-ver"] == "1.2"
    assert error_of(c, "CLIENT", "SETINFO", "foo", "x") == "Unrecognized option 'foo'"
    assert error_of(c, "CLIENT", "SETINFO", "lib-name", "a b") == (
        "lib-name cannot contain spaces, newlines or special characters.")
    assert c.execute_command("CLIENT", "NO-EVICT", "on") in (True, b"OK")
    assert "e" in fields(c.execute_command("CLIENT", "INFO"))["flags"]
    assert error_of(c, "CLIENT", "NO-EVICT", "maybe") == "syntax error"
    assert error_of(c, "CLIENT", "NOPE") == "unknown subcommand 'NOPE'. Try CLIENT HELP."
    assert c.execute_command("CLIENT", "HELP")[0].startswith(b"CLIENT <subcommand>")


def test_maxclients(fresh_server):
    srv = fresh_server()
    admin = srv.client(protocol=2)
    admin.ping()
    admin.config_set("maxclients", "3")
    held = [socket.create_connection(("127.0.0.1", srv.port)) for _ in range(2)]
    for s in held:
        s.sendall(b"PING\r\n")
        assert s.recv(100) == b"+PONG\r\n"
    out, closed = exchange(srv.port, b"PING\r\n")
    assert out == b"-ERR max number of clients reached\r\n" and closed
    assert admin.info("stats")["rejected_connections"] == 1
    held.pop().close()
    time.sleep(0.3)
    out, closed = exchange(srv.port, b"PING\r\n")
    assert out == b"+PONG\r\n"
    for s in held:
        s.close()


def test_idle_timeout(fresh_server):
    srv = fresh_server()
    admin = srv.client(protocol=2)
    admin.config_set("timeout", "1")
    idle = socket.create_connection(("127.0.0.1", srv.port))
    idle.sendall(b"PING\r\n")
    assert idle.recv(100) == b"+PONG\r\n"
    idle.settimeout(6)
    assert idle.recv(100) == b""  # closed by the server after ~1-2 s
    admin.config_set("timeout", "0")


def test_redis_py_asyncio(server):
    import redis.asyncio as aioredis

    async def main():
        c = aioredis.Redis(port=server.port)
        await c.set("aio", "1")
        async with c.pipeline(transaction=False) as p:
            for _ in range(100):
                p.incr("aio")
            results = await p.execute()
        assert results[-1] == 101
        name = await c.execute_command("CLIENT", "INFO")
        assert b"cmd=client|info" in name
        await c.aclose()

    asyncio.run(main())


def test_asyncio_redis_client(server):
    asyncio_redis = pytest.importorskip("asyncio_redis")

    async def main():
        conn = await asyncio_redis.Connection.create(host="127.0.0.1", port=server.port)
        await conn.set("ar", "value")
        assert await conn.get("ar") == "value"
        await conn.delete(["ar"])
        assert await conn.get("ar") is None
        conn.close()

    asyncio.run(main())


def test_redis_cli_pipe_and_no_raw(server):
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--no-raw"],
                         input=b"SET cli 5\nINCR cli\nGET nothing\nCLIENT SETNAME x\n",
                         capture_output=True, timeout=20)
    assert out.stdout.decode().split("\n")[:4] == ["OK", "(integer) 6", "(nil)", "OK"]
    out = subprocess.run(["redis-cli", "-p", str(server.port), "--pipe"],
                         input=b"SET p1 a\r\nSET p2 b\r\n", capture_output=True, timeout=20)
    assert b"errors: 0, replies: 2" in out.stdout


REPLY_CASES = [
    b"CLIENT REPLY OFF\r\nPING\r\nSET a 1\r\nCLIENT REPLY ON\r\nPING\r\n",
    b"CLIENT REPLY SKIP\r\nPING\r\nECHO x\r\nPING\r\n",
    b"CLIENT REPLY foo\r\nPING\r\n",
    b"CLIENT REPLY OFF\r\nCLIENT REPLY SKIP\r\nPING\r\nCLIENT REPLY ON\r\nECHO a\r\n",
    b"CLIENT REPLY SKIP\r\nCLIENT REPLY SKIP\r\nPING\r\nECHO b\r\n",
    b"CLIENT REPLY OFF\r\nGET\r\nCLIENT REPLY ON\r\n",
]


@pytest.mark.parametrize("data", REPLY_CASES, ids=lambda d: d[:40].decode())
def test_client_reply_matches_redis(server, redis_server, data):
    assert exchange(server.port, data) == exchange(redis_server.port, data)


def test_blocked_client_shows_in_info_and_list_and_can_be_killed(server):
    c = server.client(protocol=2)
    blocked = socket.create_connection(("127.0.0.1", server.port))
    blocked.sendall(b"CLIENT SETNAME waiter\r\nBLPOP nolist 0\r\n")
    assert blocked.recv(100) == b"+OK\r\n"
    deadline = time.time() + 5
    while c.info("clients")["blocked_clients"] != 1 and time.time() < deadline:
        time.sleep(0.05)
    assert c.info("clients")["blocked_clients"] == 1
    line = [x for x in c.execute_command("CLIENT", "LIST").decode().split("\n")
            if "name=waiter" in x][0]
    assert "b" in fields(line)["flags"] and fields(line)["cmd"] == "blpop"
    assert c.execute_command("CLIENT", "KILL", "ID", fields(line)["id"]) == 1
    blocked.settimeout(5)
    assert blocked.recv(100) == b""
    deadline = time.time() + 5
    while c.info("clients")["blocked_clients"] != 0 and time.time() < deadline:
        time.sleep(0.05)
    assert c.info("clients")["blocked_clients"] == 0
