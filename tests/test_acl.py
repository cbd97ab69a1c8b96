"""ACL (ledis/acl.py, ledis/commands/acl.py) through real clients on a private server.

The matrix: users x (category, subcommand, key pattern, channel pattern, selector) x entry
point (RESP, EVAL, FCALL, MULTI, HTTP). Every denied call must fail with Redis 7.0's text,
appear at the head of ACL LOG with the right reason / context / object / user, and write
nothing; every allowed call must run. Then AUTH / HELLO, requirepass as the default user's
password, CLIENT LIST's ``user=``, DELUSER disconnecting, ACL SAVE / LOAD with an ACL file, and
the embedded API's ``as_user``.
"""

from __future__ import annotations

import base64
import json
import urllib.error
import urllib.request

import pytest
import redis

from tests.helpers import LedisProcess, free_port, wait_port

PW = "pw"

# Loaded once by the admin: call(...) runs redis.call with its arguments, as the caller.
LIBRARY = """#!lua name=acltest
redis.register_function('call', function(keys, args) return redis.call(unpack(args)) end)
"""
# What a user needs to reach the entry points themselves.
ENTRY = ["+eval", "+fcall", "+multi", "+exec", "+discard"]

# (user rules, command, outcome, denied object): outcome "ok" or the denial reason.
CASES = [
    (["~r*", "+@read"], ["GET", "r1"], "ok", None),
    (["~r*", "+@read"], ["GET", "x1"], "key", "x1"),
    (["~r*", "+@read"], ["SET", "r1", "v"], "command", "set"),
    (["%R~*", "%W~w*", "+@all", "-@dangerous"], ["SET", "w1", "v"], "ok", None),
    (["%R~*", "%W~w*", "+@all", "-@dangerous"], ["SET", "x1", "v"], "key", "x1"),
    (["%R~*", "%W~w*", "+@all", "-@dangerous"], ["GET", "x1"], "ok", None),
    (["%R~*", "%W~w*", "+@all", "-@dangerous"], ["FLUSHALL"], "command", "flushall"),
    (["%R~*", "%W~w*", "+@all", "-@dangerous"], ["HSET", "x1", "f", "v"], "key", "x1"),
    (["%W~w*", "+@all"], ["RPOPLPUSH", "w1", "w2"], "key", "w1"),  # RPOPLPUSH reads its source
    (["~*", "+@all", "-set"], ["SET", "k1", "v"], "command", "set"),
    (["~*", "+@all", "-@write", "+incr"], ["INCR", "k1"], "ok", None),
    (["~*", "+@all", "-@write", "+incr"], ["DEL", "k1"], "command", "del"),
    (["~*", "+@all", "resetchannels", "&news.*"], ["PUBLISH", "news.a", "m"], "ok", None),
    (["~*", "+@all", "resetchannels", "&news.*"], ["PUBLISH", "other", "m"], "channel",
     "other"),
    (["~a*", "+get", "(~b* +set)"], ["GET", "a1"], "ok", None),
    (["~a*", "+get", "(~b* +set)"], ["SET", "b1", "v"], "ok", None),
    (["~a*", "+get", "(~b* +set)"], ["SET", "a1", "v"], "key", "a1"),
    (["~a*", "+get", "(~b* +set)"], ["GET", "b1"], "key", "b1"),
    (["~k*", "+@read", "+mset"], ["MSET", "k1", "v", "x2", "v"], "key", "x2"),
]
# Only what a client can send: subcommands (CONFIG is noscript) and MULTI-only cases.
RESP_ONLY_CASES = [
    (["~*", "-@all", "+config|get"], ["CONFIG", "GET", "maxclients"], "ok", None),
    (["~*", "-@all", "+config|get"], ["CONFIG", "SET", "maxclients", "100"], "command",
     "config|set"),
]

NOPERM = {
    "command": "NOPERM this user has no permissions to run the '{}' command",
    "key": "NOPERM this user has no permissions to access one of the keys used as arguments",
    "channel": ("NOPERM this user has no permissions to access one of the channels used as "
                "arguments"),
}
SCRIPT_TEXT = {
    "command": "ERR The user executing the script can't run this command or subcommand",
    "key": ("ERR The user executing the script can't access at least one of the keys "
            "mentioned in the command arguments"),
    "channel": ("ERR The user executing the script can't publish to the channel mentioned in "
                "the command"),
}


@pytest.fixture(scope="module")
def acl_server():
    http_port = free_port()
    proc = LedisProcess("--http-port", str(http_port)).start()
    wait_port(http_port, proc.proc)
    proc.http_port = http_port
    admin = proc.client(protocol=2)
    admin.function_load(LIBRARY)
    admin.close()
    yield proc
    proc.cleanup()


@pytest.fixture
def admin(acl_server):
    client = acl_server.client(protocol=2)
    _reset(client)
    yield client
    _reset(client)
    client.close()


def _reset(client) -> None:
    for name in client.acl_users():
        if name != b"default" and name != "default":
            client.acl_deluser(name)
    client.execute_command("ACL", "SETUSER", "default", "reset", "on", "nopass", "~*", "&*",
                           "+@all")
    client.acl_log_reset()
    client.flushall()
    client.script_flush()


def _user(admin, name: str, rules: list[str]) -> None:
    admin.execute_command("ACL", "SETUSER", name, "reset", "on", ">" + PW, *rules, *ENTRY)


def _client(server, name: str, **kw) -> redis.Redis:
    """A client logged in as ``name``; no CLIENT SETINFO on connect (the users of these tests
    may not run it, and its denial would be one more ACL LOG entry)."""
    return server.client(protocol=2, username=name, password=PW, driver_info=None, **kw)


def _outcome(call):
    try:
        return "ok", call()
    except redis.ResponseError as exc:
        return "err", str(exc)


# --- entry points -----------------------------------------------------------------------------


def _resp(server, name, argv):
    client = _client(server, name)
    try:
        return _outcome(lambda: client.execute_command(*argv))
    finally:
        client.close()


def _eval(server, name, argv):
    client = _client(server, name)
    try:
        return _outcome(lambda: client.eval("return redis.call(unpack(ARGV))", 0, *argv))
    finally:
        client.close()


def _fcall(server, name, argv):
    client = _client(server, name)
    try:
        return _outcome(lambda: client.fcall("call", 0, *argv))
    finally:
        client.close()


def _multi(server, name, argv):
    """MULTI, the command (denied at queueing as in Redis), EXEC (aborted then)."""
    client = _client(server, name)
    try:
        assert client.execute_command("MULTI") == b"OK"
        queued = _outcome(lambda: client.execute_command(*argv))
        executed = _outcome(lambda: client.execute_command("EXEC"))
        if queued[0] == "err":
            assert executed == ("err", "Transaction discarded because of previous errors.")
            return queued
        assert queued[0] == "ok"  # QUEUED (redis-py's reply callbacks may reshape it)
        return executed
    finally:
        client.close()


def _http(server, name, argv):
    token = base64.b64encode(f"{name}:{PW}".encode()).decode()
    req = urllib.request.Request(
        f"http://127.0.0.1:{server.http_port}/", data=json.dumps(argv).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Basic {token}"})
    try:
        with urllib.request.urlopen(req, timeout=20) as resp:
            return "ok", json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        body = json.loads(exc.read())
        assert exc.code == 403 if body["error"].startswith("NOPERM") else True
        return "err", body["error"]


ENTRIES = {"resp": (_resp, "toplevel"), "eval": (_eval, "lua"), "fcall": (_fcall, "lua"),
           "multi": (_multi, "multi"), "http": (_http, "toplevel")}


def _expected_text(entry: str, reason: str, command: str) -> str:
    text = SCRIPT_TEXT[reason] if entry in ("eval", "fcall") else NOPERM[reason].format(command)
    # redis-py strips the error prefix (ERR, NOPERM) from exception texts.
    return text if entry == "http" else text.split(" ", 1)[1]


def _written_keys(argv: list[str]) -> list[str]:
    name = argv[0].upper()
    if name in ("SET", "HSET", "INCR"):
        return [argv[1]]
    if name == "MSET":
        return argv[1::2]
    return []


@pytest.mark.parametrize("entry", sorted(ENTRIES))
@pytest.mark.parametrize("rules,argv,outcome,obj", CASES,
                         ids=[f"{' '.join(c[0])}|{' '.join(c[1])}" for c in CASES])
def test_acl_matrix(acl_server, admin, entry, rules, argv, outcome, obj):
    _user(admin, "u1", rules)
    run, context = ENTRIES[entry]
    kind, value = run(acl_server, "u1", argv)
    log = admin.acl_log()
    if outcome == "ok":
        assert kind == "ok", value
        assert log == []
        for key in _written_keys(argv):
            assert admin.exists(key) == 1
        return
    assert kind == "err"
    expected = _expected_text(entry, outcome, obj)
    if entry in ("eval", "fcall"):
        assert value.startswith(expected), value
    else:
        assert value == expected
    assert len(log) == 1, log
    entry_log = log[0]
    assert entry_log["reason"] == outcome
    assert entry_log["context"] == context
    assert entry_log["object"] == obj
    assert entry_log["username"] == "u1"
    assert entry_log["count"] == 1
    # Nothing denied is written (MSET: not even the allowed key of the pair).
    assert admin.dbsize() == 0


@pytest.mark.parametrize("rules,argv,outcome,obj", RESP_ONLY_CASES)
def test_acl_subcommands(acl_server, admin, rules, argv, outcome, obj):
    _user(admin, "u1", rules)
    for run in (_resp, _multi):
        admin.acl_log_reset()
        kind, value = run(acl_server, "u1", argv)
        if outcome == "ok":
            assert kind == "ok", value
        else:
            assert value == NOPERM[outcome].format(obj).split(" ", 1)[1]
            assert admin.acl_log()[0]["object"] == obj


def test_script_keys_checked_against_user(acl_server, admin):
    """EVAL's own KEYS are keys of the EVAL command: checked before the script runs."""
    _user(admin, "u1", ["~k*", "+@read"])
    client = _client(acl_server, "u1")
    with pytest.raises(redis.ResponseError) as exc:
        client.eval("return 1", 1, "x1")
    assert "no permissions to access one of the keys" in str(exc.value)
    assert client.eval("return redis.call('get', KEYS[1])", 1, "k1") is None
    client.close()


def test_acl_change_applies_to_connected_clients(acl_server, admin):
    _user(admin, "u1", ["~*", "+@all"])
    client = _client(acl_server, "u1")
    client.set("k", "1")
    admin.execute_command("ACL", "SETUSER", "u1", "-set")
    with pytest.raises(redis.ResponseError, match="run the 'set' command"):
        client.set("k", "2")
    admin.execute_command("ACL", "SETUSER", "u1", "+set")
    assert client.set("k", "3")
    client.close()


def test_log_groups_and_counts(acl_server, admin):
    _user(admin, "u1", ["~k*", "+@read"])
    client = _client(acl_server, "u1")
    for _ in range(3):
        with pytest.raises(redis.ResponseError):
            client.get("x")
    with pytest.raises(redis.ResponseError):
        client.get("y")
    log = admin.acl_log()
    assert [(e["object"], e["count"]) for e in log] == [("y", 1), ("x", 3)]
    assert set(log[0]) == {"count", "reason", "context", "object", "username", "age-seconds",
                           "client-info"}
    assert log[0]["client-info"]["user"] == "u1"  # redis-py parses the client line
    assert len(admin.acl_log(count=1)) == 1
    assert admin.acl_log_reset()
    assert admin.acl_log() == []
    client.close()


# --- AUTH, HELLO, requirepass, CLIENT -------------------------------------------------------


def test_auth_and_hello(acl_server, admin):
    _user(admin, "u1", ["~*", "+@all"])
    client = acl_server.client(protocol=2)
    assert client.execute_command("AUTH", "u1", PW) is True
    assert client.execute_command("ACL", "WHOAMI") == b"u1"
    with pytest.raises(redis.AuthenticationError):
        client.execute_command("AUTH", "u1", "bad")
    with pytest.raises(redis.AuthenticationError):
        client.execute_command("AUTH", "nobody", "x")
    log = admin.acl_log()
    assert [(e["reason"], e["username"], e["object"]) for e in log] == [
        ("auth", "nobody", "AUTH"), ("auth", "u1", "AUTH")]
    client.execute_command("AUTH", "u1", PW)  # redis-py reconnects after an auth error
    hello = client.execute_command("HELLO", "2", "AUTH", "default", "anything")
    fields = hello if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2], strict=True))
    assert fields[b"proto"] == 2  # default is nopass: any password logs it in
    assert client.execute_command("ACL", "WHOAMI") == b"default"
    client.execute_command("AUTH", "u1", PW)
    assert client.execute_command("RESET") in (b"RESET", "RESET")
    assert client.execute_command("ACL", "WHOAMI") == b"default"  # RESET logs in as default
    admin.execute_command("ACL", "SETUSER", "u1", "off")
    with pytest.raises(redis.AuthenticationError):
        client.execute_command("AUTH", "u1", PW)
    client.close()


def test_client_list_and_info_user_field(acl_server, admin):
    _user(admin, "u1", ["~*", "+@all"])
    client = _client(acl_server, "u1")
    assert "user=u1" in client.execute_command("CLIENT", "INFO").decode()
    me = client.client_id()
    line = next(c for c in admin.client_list() if int(c["id"]) == me)
    assert line["user"] == "u1"
    assert admin.execute_command("CLIENT", "KILL", "USER", "u1") == 1
    with pytest.raises(redis.ResponseError, match="No such user 'nobody'"):
        admin.execute_command("CLIENT", "KILL", "USER", "nobody")
    client.close()


def test_deluser_disconnects(acl_server, admin):
    _user(admin, "u1", ["~*", "+@all"])
    client = _client(acl_server, "u1", retry_on_error=[])
    client.ping()
    assert admin.acl_deluser("u1", "nobody") == 1
    with pytest.raises(redis.ConnectionError):
        client.ping()
    with pytest.raises(redis.ResponseError, match="The 'default' user cannot be removed"):
        admin.acl_deluser("default")
    client.close()


def test_requirepass_is_default_users_password(fresh_server):
    proc = fresh_server("--requirepass", "s3cret")
    anon = proc.client(protocol=2)
    with pytest.raises(redis.AuthenticationError):
        anon.ping()
    client = proc.client(protocol=2, password="s3cret")
    assert client.ping()
    assert client.execute_command("ACL", "LIST") == [
        b"user default on #" + __import__("hashlib").sha256(b"s3cret").hexdigest().encode()
        + b" ~* &* +@all"]
    client.config_set("requirepass", "other")
    assert proc.client(protocol=2, password="other").ping()
    with pytest.raises(redis.AuthenticationError):
        proc.client(protocol=2, password="s3cret").ping()
    client.config_set("requirepass", "")
    assert anon.ping()
    with pytest.raises(redis.AuthenticationError, match="without any password configured"):
        anon.execute_command("AUTH", "x")


def test_default_user_restricted(acl_server, admin):
    """The default user itself can be restricted: new connections get its rules."""
    admin.execute_command("ACL", "SETUSER", "default", "-flushall")
    client = acl_server.client(protocol=2)
    with pytest.raises(redis.ResponseError, match="'flushall' command"):
        client.flushall()
    client.close()
    admin.execute_command("ACL", "SETUSER", "default", "+flushall")


def test_http_bearer_and_basic(acl_server, admin):
    _user(admin, "u1", ["~*", "+@all"])
    port = acl_server.http_port

    def get(path, auth=None):
        headers = {"Authorization": auth} if auth else {}
        req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=20) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())

    basic = "Basic " + base64.b64encode(f"u1:{PW}".encode()).decode()
    assert get("/ACL/WHOAMI", basic) == (200, {"ACL": "u1"})
    bad = "Basic " + base64.b64encode(b"u1:nope").decode()
    assert get("/ACL/WHOAMI", bad)[0] == 401
    assert get("/ACL/WHOAMI") == (200, {"ACL": "default"})
    admin.execute_command("ACL", "SETUSER", "default", "resetpass", ">dpw")
    assert get("/ACL/WHOAMI")[0] == 401
    assert get("/ACL/WHOAMI", "Bearer dpw") == (200, {"ACL": "default"})
    assert get("/ACL/WHOAMI", "Bearer nope")[0] == 401
    assert admin.acl_log()[0]["reason"] == "auth"


# --- ACL SAVE / LOAD ---------------------------------------------------------------------------


def test_save_and_load(fresh_server, tmp_path):
    path = tmp_path / "users.acl"
    path.write_text("user alice on >a ~a* +get\n")
    proc = fresh_server("--aclfile", str(path))
    admin = proc.client(protocol=2)
    lines = admin.execute_command("ACL", "LIST")
    assert lines[0].startswith(b"user alice on #") and lines[0].endswith(b" ~a* resetchannels "
                                                                          b"-@all +get")
    assert lines[1] == b"user default on nopass ~* &* +@all"
    alice = proc.client(protocol=2, username="alice", password="a")
    assert alice.get("a1") is None
    admin.execute_command("ACL", "SETUSER", "bob", "on", "nopass", "(~x +set)")
    assert admin.execute_command("ACL", "SAVE") == b"OK"
    saved = path.read_text().splitlines()
    assert saved == [line.decode() for line in admin.execute_command("ACL", "LIST")]
    assert "user bob on nopass resetchannels -@all (~x resetchannels -@all +set)" in saved
    # A bad file changes nothing; a good one replaces every user.
    path.write_text("user alice on >a foo\nuser alice on\n")
    with pytest.raises(redis.ResponseError) as exc:
        admin.execute_command("ACL", "LOAD")
    assert str(exc.value) == (f"{path}:1: Syntax error. WARNING: Duplicate user 'alice' found "
                              "on line 2. WARNING: ACL errors detected, no change to the "
                              "previously active ACL rules was performed")
    assert len(admin.acl_users()) == 3
    path.write_text("user carol on nopass ~* +@all\n")
    assert admin.execute_command("ACL", "LOAD") == b"OK"
    assert sorted(admin.acl_users()) == ["carol", "default"]
    with pytest.raises(redis.ConnectionError):
        alice.get("a1")  # her user is gone
    # Restart: the file is read at startup.
    proc.stop()
    proc.start()
    assert sorted(proc.client(protocol=2).acl_users()) == ["carol", "default"]


def test_save_without_file(acl_server, admin):
    for sub in ("SAVE", "LOAD"):
        with pytest.raises(redis.ResponseError, match="not configured to use an ACL file"):
            admin.execute_command("ACL", sub)


# --- the embedded API ------------------------------------------------------------------------


def test_embedded_as_user(tmp_path):
    import ledis

    db = ledis.open(str(tmp_path / "db"))
    try:
        db.execute("ACL", "SETUSER", "u1", "on", "~k*", "+@read", "+eval")
        user = db.as_user("u1")
        assert user.get("k1") is None
        with pytest.raises(ledis.ResponseError, match="run the 'set' command"):
            user.set("k1", "v")
        with pytest.raises(ledis.ResponseError, match="can't access at least one of the keys"):
            user.eval("return redis.call('get', 'x')")
        assert db.get("k1") is None
        assert [e[b"reason"] for e in db.execute("ACL", "LOG")] == [b"key", b"command"]
        db.execute("ACL", "SETUSER", "u1", "+set")
        assert user.set("k1", "v")
        with pytest.raises(ledis.ResponseError, match="User 'nobody' not found"):
            db.as_user("nobody")
    finally:
        db.close()


def test_genpass(acl_server, admin):
    assert len(admin.acl_genpass()) == 64
    assert len(admin.acl_genpass(5)) == 2
    assert admin.acl_genpass() != admin.acl_genpass()


def test_subscribe_channels(acl_server, admin):
    """SUBSCRIBE checks every channel, PSUBSCRIBE needs the very pattern (Redis's rule)."""
    _user(admin, "u1", ["resetchannels", "&news.*", "+@pubsub"])
    client = _client(acl_server, "u1")
    conn = client.connection_pool.get_connection()
    try:
        for argv, ok in ((["SUBSCRIBE", "news.a", "other"], False),
                         (["PSUBSCRIBE", "news.a*"], False),
                         (["PSUBSCRIBE", "news.*"], True),
                         (["SUBSCRIBE", "news.b"], True)):
            conn.send_command(*argv)
            if ok:
                assert conn.read_response()[0].lower() in (b"subscribe", b"psubscribe")
            else:
                with pytest.raises(redis.ResponseError, match="one of the channels"):
                    conn.read_response()
    finally:
        client.connection_pool.release(conn)
        client.close()
    assert [(e["object"], e["reason"]) for e in admin.acl_log()] == [
        ("news.a*", "channel"), ("other", "channel")]
    assert admin.pubsub_numsub("news.a") == [(b"news.a", 0)]  # the denied SUBSCRIBE did nothing


def test_redis_command_names_ledis_lacks(acl_server, admin):
    """A Redis ACL file's rules load even where they name a Redis 7.0 command ledis does not
    have (it changes nothing); a name Redis does not know either is still an error."""
    for name in ("debug", "sort_ro", "xadd", "geoadd", "pfadd"):
        admin.execute_command("ACL", "SETUSER", "u1", "+" + name, "-" + name)
    with pytest.raises(redis.ResponseError, match="Unknown command or category name"):
        admin.execute_command("ACL", "SETUSER", "u1", "+nosuchcommand")
