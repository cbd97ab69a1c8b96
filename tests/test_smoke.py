"""The server starts, answers over TCP and keeps data across a restart."""

import subprocess


def test_ping_set_get(r):
    assert r.ping() is True
    assert r.set("k", b"v\x00x") is True
    assert r.get("k") == b"v\x00x"
    assert r.dbsize() == 1


def test_unknown_command_keeps_connection(r):
    import redis
    try:
        r.execute_command("NOPE", "a", "b")
    except redis.ResponseError as exc:
        assert str(exc) == "unknown command 'NOPE', with args beginning with: 'a' 'b' "
    else:
        raise AssertionError("no error")
    assert r.ping() is True


def test_restart_keeps_data(fresh_server):
    srv = fresh_server()
    c = srv.client()
    c.set("persist", "yes")
    srv.restart()
    assert srv.client().get("persist") == b"yes"


def test_redis_cli_pipe(server):
    out = subprocess.run(["redis-cli", "-p", str(server.port)], input=b"SET a 1\nGET a\n",
                         capture_output=True, timeout=10)
    assert out.stdout.split() == [b"OK", b"1"]


def test_pipeline_flushdb_then_get(r):
    r.set("k", "1")
    pipe = r.pipeline(transaction=False)
    pipe.flushdb().get("k").dbsize()
    assert pipe.execute() == [True, None, 0]
    assert r.get("k") is None
