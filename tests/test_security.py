"""Security defaults through real servers (docs/reliability.md, "Security defaults"):
protected mode, rename-command on every entry point, AUTH with constant-time checks, HTTP
auth on every route, TLS on the RESP port and HTTP, and the TLS startup errors.

No traffic leaves the loopback interface: a "remote" peer is a client socket bound to
127.0.0.2 (still the loopback interface, but not the address Redis 7.0 treats as local), and
the rule itself is unit-tested over public v4/v6 addresses in tests/unit/test_security_unit.py.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
import redis

from ledis import errors
from tests.helpers import (
    ROOT,
    LedisProcess,
    RedisProcess,
    free_port,
    have_redis_server,
    wait_port,
)

DENIED = b"-" + errors.DENIED_PROTECTED.encode() + b"\r\n"


def raw_exchange(port: int, source: str = "127.0.0.1", request: bytes = b"PING\r\n") -> bytes:
    """Everything the server sends until it closes or goes quiet, from ``source``."""
    with socket.socket() as sock:
        sock.settimeout(5)
        sock.bind((source, 0))
        sock.connect(("127.0.0.1", port))
        try:
            sock.sendall(request)
        except OSError:
            pass
        data = b""
        deadline = time.time() + 10
        while time.time() < deadline:
            try:
                chunk = sock.recv(65536)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            data += chunk
            sock.settimeout(0.5)  # after the first bytes: until closed or quiet
        return data


def raw_call(port: int, *args: str) -> object:
    """One command's reply as hiredis parses it (redis-py reshapes COMMAND's replies)."""
    import hiredis

    request = b"*%d\r\n" % len(args) + b"".join(
        b"$%d\r\n%s\r\n" % (len(a.encode()), a.encode()) for a in args)
    reader = hiredis.Reader(encoding="utf-8")
    reader.feed(raw_exchange(port, request=request))
    return reader.gets()


def yaml_file(tmp_path, text: str) -> str:
    path = tmp_path / "ledis.yaml"
    path.write_text(text)
    return str(path)


# --- protected mode ---------------------------------------------------------------------------
def test_protected_mode_denies_a_non_loopback_peer_without_password():
    server = LedisProcess().start()
    try:
        assert raw_exchange(server.port) == b"+PONG\r\n"
        assert raw_exchange(server.port, "127.0.0.2") == DENIED  # then closed
        client = server.client()
        assert client.config_get("protected-mode") == {"protected-mode": "yes"}
        assert client.info("stats")["rejected_connections"] == 1
        client.config_set("protected-mode", "no")
        assert client.config_get("protected-mode") == {"protected-mode": "no"}
        assert raw_exchange(server.port, "127.0.0.2") == b"+PONG\r\n"
        client.config_set("protected-mode", "yes")
        assert raw_exchange(server.port, "127.0.0.2") == DENIED
        with pytest.raises(redis.ResponseError, match="argument must be 'yes' or 'no'"):
            client.config_set("protected-mode", "maybe")
        # a password lifts it: the peer connects and must AUTH like anyone
        client.config_set("requirepass", "s3cret")
        assert raw_exchange(server.port, "127.0.0.2") == b"-NOAUTH Authentication required.\r\n"
        client.close()
    finally:
        server.cleanup()


def test_protected_mode_no_from_the_command_line_and_file(tmp_path):
    server = LedisProcess("--protected-mode", "no").start()
    try:
        assert raw_exchange(server.port, "127.0.0.2") == b"+PONG\r\n"
    finally:
        server.cleanup()
    server = LedisProcess(config=yaml_file(tmp_path, "network:\n  protected_mode: no\n")).start()
    try:
        assert raw_exchange(server.port, "127.0.0.2") == b"+PONG\r\n"
        assert server.client().config_get("protected-mode") == {"protected-mode": "no"}
    finally:
        server.cleanup()


def test_protected_mode_set_at_run_time_is_rewritten_and_kept(tmp_path):
    config = yaml_file(tmp_path, "network:\n  protected_mode: yes\n")
    server = LedisProcess(config=config).start()
    try:
        client = server.client()
        client.config_set("protected-mode", "no")
        client.config_rewrite()
        client.close()
        assert "protected_mode: false" in (tmp_path / "ledis.yaml").read_text()
        server.restart()
        assert server.client().config_get("protected-mode") == {"protected-mode": "no"}
        assert raw_exchange(server.port, "127.0.0.2") == b"+PONG\r\n"
    finally:
        server.cleanup()


@pytest.mark.skipif(not have_redis_server(), reason="redis-server not installed")
def test_protected_mode_reply_is_byte_for_byte_redis():
    reference = RedisProcess().start()
    server = LedisProcess().start()
    try:
        theirs = raw_exchange(reference.port, "127.0.0.2")
        ours = raw_exchange(server.port, "127.0.0.2")
        assert theirs.startswith(b"-DENIED") and ours == theirs
        assert raw_exchange(reference.port) == raw_exchange(server.port) == b"+PONG\r\n"
    finally:
        reference.cleanup()
        server.cleanup()


# --- rename-command ---------------------------------------------------------------------------
RENAMES = ('security:\n  rename_command:\n    FLUSHALL: ""\n    CONFIG: ADMIN-CONFIG\n'
           '    ECHO: SAY\n    FLUSHDB: WIPE\n    APPEND: ATTACH\n')


@pytest.fixture(scope="module")
def renamed(tmp_path_factory):
    folder = tmp_path_factory.mktemp("renamed")
    http_port = free_port()
    server = LedisProcess("--http-port", str(http_port),
                          config=yaml_file(folder, RENAMES)).start()
    wait_port(http_port, server.proc)
    yield server, http_port
    server.cleanup()


def _unknown(name: str, *args: str) -> str:
    shown = "".join(f"'{a}' " for a in args)
    return errors.UNKNOWN_COMMAND.format(name, shown)


def test_rename_over_resp(renamed):
    server, _ = renamed
    r = server.client(decode_responses=True)
    r.set("k", "v")
    with pytest.raises(redis.ResponseError) as info:
        r.execute_command("FLUSHALL")
    assert str(info.value) == _unknown("FLUSHALL")[4:]  # redis-py drops the "ERR "
    with pytest.raises(redis.ResponseError, match="unknown command 'CONFIG'"):
        r.execute_command("CONFIG", "GET", "maxclients")
    assert raw_exchange(server.port, request=b"ADMIN-CONFIG GET maxclients\r\n") \
        == b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    assert raw_exchange(server.port, request=b"admin-config get maxclients\r\n") \
        == b"*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n"
    with pytest.raises(redis.ResponseError, match="Try ADMIN-CONFIG HELP"):
        r.execute_command("ADMIN-CONFIG", "NOPE")
    assert r.get("k") == "v"  # FLUSHALL never ran
    out = subprocess.run(["redis-cli", "-p", str(server.port), "FLUSHALL"], capture_output=True,
                         text=True, timeout=30, check=False).stdout
    assert "unknown command 'FLUSHALL'" in out


def test_rename_in_multi_and_scripts(renamed):
    server, _ = renamed
    r = server.client(decode_responses=True)
    r.set("k", "v")
    replies = raw_exchange(server.port, request=b"MULTI\r\nFLUSHALL\r\nSET k changed\r\n"
                                                b"EXEC\r\n")
    assert replies == (b"+OK\r\n-" + _unknown("FLUSHALL").encode() + b"\r\n+QUEUED\r\n"
                       b"-EXECABORT Transaction discarded because of previous errors.\r\n")
    assert r.get("k") == "v"
    with pytest.raises(redis.ResponseError, match="Unknown Redis command called from script"):
        r.eval("return redis.call('FLUSHALL')", 0)
    assert r.eval("return redis.call('SAY', 'hi')", 0) == "hi"  # ECHO's new name
    with pytest.raises(redis.ResponseError, match="Unknown Redis command called from script"):
        r.eval("return redis.call('ECHO', 'hi')", 0)
    assert r.get("k") == "v"


def test_rename_over_http(renamed):
    _, http_port = renamed
    base = f"http://127.0.0.1:{http_port}"
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(base + "/FLUSHALL", timeout=20)
    assert info.value.code == 404
    assert "unknown command 'FLUSHALL'" in json.loads(info.value.read())["error"]
    with urllib.request.urlopen(base + "/ADMIN-CONFIG/GET/maxclients", timeout=20) as resp:
        assert json.loads(resp.read()) == {"ADMIN-CONFIG": {"maxclients": "10000"}}


# The same renames given to redis-server (its --rename-command), for the differential test
REDIS_RENAMES = ("--rename-command", "FLUSHALL", "", "--rename-command", "CONFIG", "ADMIN-CONFIG",
                 "--rename-command", "ECHO", "SAY", "--rename-command", "FLUSHDB", "WIPE",
                 "--rename-command", "APPEND", "ATTACH")


def test_renamed_commands_answer_as_in_redis(renamed):
    """As in Redis 7.0, only the name clients send changes: COMMAND, COMMAND INFO / DOCS /
    COUNT, the arity error and INFO commandstats keep the command's own name; the subcommand
    error names what was sent. Compared with a redis-server given the same renames."""
    server, _ = renamed
    reference = RedisProcess(*REDIS_RENAMES).start()
    try:
        for args in [("COMMAND", "INFO", "admin-config", "config", "say", "wipe"),
                     ("COMMAND", "DOCS", "say"), ("COMMAND", "GETKEYS", "SAY", "x"),
                     ("SAY",), ("ADMIN-CONFIG", "NOPE"), ("admin-config", "GET"),
                     ("CONFIG", "GET", "x"), ("ECHO", "x"), ("FLUSHALL",),
                     ("COMMAND", "INFO", "flushall"),
                     # ACL rules name commands by their own names (Redis's orig_commands)
                     ("ACL", "SETUSER", "renamed", "+config"), ("ACL", "SETUSER", "renamed",
                                                                "+admin-config"),
                     ("ACL", "SETUSER", "renamed", "-say"), ("ACL", "DRYRUN", "renamed",
                                                             "ADMIN-CONFIG", "GET", "x")]:
            ours, theirs = (raw_call(port, *args) for port in (server.port, reference.port))
            if isinstance(ours, Exception) and isinstance(theirs, Exception):
                ours, theirs = str(ours), str(theirs)
            if args[:2] == ("COMMAND", "INFO"):  # subcommands come in hash table order
                ours, theirs = ([e if e is None else [*e[:9], sorted(e[9])] for e in reply]
                                for reply in (ours, theirs))
            assert ours == theirs, f"{args}: ledis {ours!r}, redis {theirs!r}"
        listed = set(raw_call(server.port, "COMMAND", "LIST"))
        names = {"config", "config|get", "echo", "flushdb", "append", "flushall",
                 "admin-config", "say", "wipe", "attach"}
        assert listed & names == set(raw_call(reference.port, "COMMAND", "LIST")) & names \
            == {"config", "config|get", "echo", "flushdb", "append"}
        assert raw_call(server.port, "COMMAND", "COUNT") == len(
            [name for name in listed if "|" not in name])  # FLUSHALL's "" removed it
        for port in (server.port, reference.port):
            raw_call(port, "SAY", "x")
        stats = [[line.split(":")[0] for line in raw_call(port, "INFO", "commandstats").split()
                  if line.startswith("cmdstat_echo")] for port in (server.port, reference.port)]
        assert stats == [["cmdstat_echo"], ["cmdstat_echo"]]
    finally:
        reference.cleanup()


def test_renamed_commands_keep_their_behaviour(renamed):
    """Keyspace events and WATCH key on the command's own name: a renamed APPEND still
    publishes "append", a renamed FLUSHDB still touches WATCHed keys (EXEC aborts)."""
    server, _ = renamed
    port = server.port
    r = server.client()
    raw_call(port, "ADMIN-CONFIG", "SET", "notify-keyspace-events", "KEA")
    try:
        sub = r.pubsub()
        sub.psubscribe("__keyevent@0__:*")
        assert sub.get_message(timeout=2)["type"] == "psubscribe"
        raw_call(port, "ATTACH", "renamed:k", "v")
        message = sub.get_message(timeout=2)
        assert message["channel"] == b"__keyevent@0__:append"
        assert message["data"] == b"renamed:k"
        sub.close()
    finally:
        raw_call(port, "ADMIN-CONFIG", "SET", "notify-keyspace-events", "")
    pipe = server.client().pipeline()
    pipe.watch("renamed:k")
    raw_call(port, "WIPE")
    pipe.multi()
    pipe.set("renamed:k", "again")
    with pytest.raises(redis.WatchError):
        pipe.execute()


def test_rename_in_the_embedded_api():
    import ledis

    db = ledis.open(memory=True, rename_command={"FLUSHALL": "", "CONFIG": "ADMIN-CONFIG"})
    try:
        db.execute("SET", "k", "v")
        with pytest.raises(ledis.ResponseError, match="unknown command 'FLUSHALL'"):
            db.execute("FLUSHALL")
        assert db.execute("ADMIN-CONFIG", "GET", "maxclients") == {b"maxclients": b"10000"}
        assert db.execute("GET", "k") == b"v"
    finally:
        db.close()


def test_bad_rename_is_a_one_line_startup_error(tmp_path):
    config = yaml_file(tmp_path, 'rename_command:\n  NOSUCHCMD: ""\n')
    data = tmp_path / "db"
    proc = subprocess.run([sys.executable, "-m", "ledis", "server", "--config", config,
                           "--port", str(free_port()), "--dir", str(data)],
                          cwd=str(ROOT), capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip() == (f"ledis: config error ({config}): bad value for "
                                   "'rename_command': No such command in rename-command: "
                                   "NOSUCHCMD")
    assert not data.exists()


# --- passwords --------------------------------------------------------------------------------
def test_auth_and_hello_auth_accept_the_password_and_refuse_others():
    server = LedisProcess("--requirepass", "s3cret").start()
    try:
        anonymous = server.client()
        with pytest.raises(redis.AuthenticationError):
            anonymous.ping()
        for wrong in ("s3cre", "s3cret!", "S3CRET", "x"):
            with pytest.raises(redis.AuthenticationError, match="invalid username-password"):
                server.client(password=wrong).ping()
        assert server.client(password="s3cret").ping() is True
        assert server.client(username="default", password="s3cret").ping() is True
        hello = server.client(protocol=3, username="default", password="s3cret")
        assert hello.ping() is True
        with pytest.raises(redis.AuthenticationError):
            server.client(protocol=3, username="default", password="nope").ping()
        raw = raw_exchange(server.port, request=b"AUTH nope\r\nAUTH s3cret\r\nPING\r\n")
        assert raw == (b"-WRONGPASS invalid username-password pair or user is disabled.\r\n"
                       b"+OK\r\n+PONG\r\n")
    finally:
        server.cleanup()


# --- HTTP: every route needs the token ---------------------------------------------------------
def _sample_requests(app) -> list[tuple[str, str]]:
    """(method, path) for every route of the aiohttp app: fixed paths as they are, the
    catch-all with command paths, each with every method the route takes."""
    samples = []
    for route in app.router.routes():
        info = route.resource.get_info()
        if info.get("path", info.get("formatter", "")).startswith("/_console") \
                or info.get("path") == "/":
            continue  # the browser console: its own session login (tests/test_console.py)
        methods = ["GET", "POST", "PUT", "DELETE", "PATCH"] if route.method == "*" \
            else [route.method]
        if "path" in info:
            paths = [info["path"]]
        else:  # the catch-all: commands, a db number, the POST root, unknown commands
            paths = ["/", "/PING", "/GET/k", "/0/SET/k/v", "/DBSIZE", "/CONFIG/GET/*",
                     "/EVAL", "/NOSUCHCOMMAND", "/openapi.json?x", "/health/x"]
        samples += [(method, path) for path in paths for method in methods]
    return samples


def _http(method: str, url: str, token: str | None = None, context=None) -> int:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = b'["PING"]' if method in ("POST", "PUT", "PATCH") else None
    if body is not None:
        headers["Content-Type"] = "application/json"
    req = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=20, context=context) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_every_http_route_refuses_without_the_password():
    from types import SimpleNamespace

    import ledis
    from ledis.http.app import HttpApi

    # The route table of the real app class, read off an in-process instance.
    db = ledis.open(memory=True)
    try:
        samples = _sample_requests(HttpApi(SimpleNamespace(core=db._shared.core)).app)
    finally:
        db.close()
    fixed = {path for _method, path in samples if path in ("/health", "/info", "/openapi.json")}
    assert fixed == {"/health", "/info", "/openapi.json"}
    http_port = free_port()
    server = LedisProcess("--requirepass", "s3cret", "--http-port", str(http_port)).start()
    wait_port(http_port, server.proc)
    base = f"http://127.0.0.1:{http_port}"
    try:
        for method, path in samples:
            # GET / (and HEAD) is the console's page: no data, its API needs a session
            public = (method, path) == ("GET", "/health") or (
                method in ("GET", "HEAD") and path == "/")
            assert _http(method, base + path) == (200 if public else 401), (method, path)
            assert _http(method, base + path, "wrong") == (200 if public else 401), (method, path)
            assert _http(method, base + path, "s3cret") != 401, (method, path)
        with urllib.request.urlopen(base + "/health", timeout=20) as resp:
            assert json.loads(resp.read()) == {"status": "ok", "loading": 0}  # no version
        assert server.client(password="s3cret").get("k") == b"v"  # the authorized SET ran
    finally:
        server.cleanup()


# --- TLS --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI missing (tests/run.sh installs it)")
    from tests.tls_helpers import make_certs

    return make_certs(tmp_path_factory.mktemp("certs"))


def _tls_args(certs, tls_port: int, *extra: str) -> list[str]:
    return ["--tls-port", str(tls_port), "--tls-cert-file", str(certs.server_crt),
            "--tls-key-file", str(certs.server_key), "--tls-ca-cert-file", str(certs.ca_crt),
            *extra]


@pytest.fixture(scope="module")
def tls_server(certs):
    tls_port, http_port = free_port(), free_port()
    server = LedisProcess(*_tls_args(certs, tls_port, "--tls-auth-clients", "optional",
                                     "--http-port", str(http_port), "--http-tls", "yes")).start()
    wait_port(tls_port, server.proc)
    wait_port(http_port, server.proc)
    yield server, tls_port, http_port
    server.cleanup()


def test_redis_cli_over_tls(certs, tls_server):
    server, tls_port, _ = tls_server

    def cli(*args: str) -> str:
        return subprocess.run(["redis-cli", "--tls", "--cacert", str(certs.ca_crt), "-p",
                               str(tls_port), *args], capture_output=True, text=True,
                              timeout=30, check=False).stdout.strip()

    assert cli("PING") == "PONG"
    assert cli("SET", "tlskey", "over-tls") == "OK"
    assert cli("GET", "tlskey") == "over-tls"
    assert server.client().get("tlskey") == b"over-tls"  # the plain port sees the same data
    assert server.client().config_get("tls-port") == {"tls-port": str(tls_port)}


def test_redis_py_over_tls(certs, tls_server):
    _, tls_port, _ = tls_server
    r = redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=str(certs.ca_crt))
    assert r.ping() is True
    r.set("py", "tls")
    assert r.get("py") == b"tls"
    with_cert = redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=str(certs.ca_crt),
                            ssl_certfile=str(certs.client_crt), ssl_keyfile=str(certs.client_key))
    assert with_cert.get("py") == b"tls"
    # the client checks the server too: a CA that did not sign it fails the handshake
    stranger = redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=str(certs.other_ca_crt))
    with pytest.raises(redis.ConnectionError):
        stranger.ping()


def test_plain_client_on_the_tls_port_fails_cleanly(tls_server):
    server, tls_port, _ = tls_server
    reply = raw_exchange(tls_port)  # plain RESP into a TLS handshake
    assert not reply.startswith(b"+PONG")
    with pytest.raises(redis.ConnectionError):
        redis.Redis(port=tls_port, socket_timeout=5).ping()
    assert server.client().ping() is True  # the server carries on
    assert server.proc.poll() is None


def test_http_over_tls(certs, tls_server):
    _, _, http_port = tls_server
    context = ssl.create_default_context(cafile=str(certs.ca_crt))
    with urllib.request.urlopen(f"https://127.0.0.1:{http_port}/SET/h/1", timeout=20,
                                context=context) as resp:
        assert json.loads(resp.read()) == {"SET": [True, "OK"]}
    with urllib.request.urlopen(f"https://localhost:{http_port}/GET/h", timeout=20,
                                context=context) as resp:
        assert json.loads(resp.read()) == {"GET": "1"}
    with pytest.raises((OSError, http.client.HTTPException)):  # plain HTTP on the HTTPS port
        urllib.request.urlopen(f"http://127.0.0.1:{http_port}/PING", timeout=10)


def test_tls_auth_clients_yes_requires_a_certificate_from_the_ca(certs):
    tls_port = free_port()
    server = LedisProcess(*_tls_args(certs, tls_port)).start()  # tls-auth-clients: yes
    wait_port(tls_port, server.proc)
    try:
        def client(crt=None, key=None) -> redis.Redis:
            extra = {"ssl_certfile": str(crt), "ssl_keyfile": str(key)} if crt else {}
            return redis.Redis(port=tls_port, ssl=True, ssl_ca_certs=str(certs.ca_crt),
                               socket_timeout=10, **extra)

        with pytest.raises(redis.ConnectionError):
            client().ping()  # no certificate
        with pytest.raises(redis.ConnectionError):
            client(certs.other_client_crt, certs.other_client_key).ping()  # wrong CA
        assert client(certs.client_crt, certs.client_key).ping() is True
        assert server.client().config_get("tls-auth-clients") == {"tls-auth-clients": "yes"}
    finally:
        server.cleanup()


def test_protected_mode_applies_on_the_tls_port(certs, tls_server):
    _, tls_port, _ = tls_server
    context = ssl.create_default_context(cafile=str(certs.ca_crt))
    for source, expected in (("127.0.0.1", b"+PONG\r\n"), ("127.0.0.2", DENIED)):
        with socket.socket() as raw:
            raw.settimeout(10)
            raw.bind((source, 0))
            raw.connect(("127.0.0.1", tls_port))
            with context.wrap_socket(raw, server_hostname="localhost") as sock:
                sock.sendall(b"PING\r\n")
                data = b""
                while not data.endswith(b"\r\n") or (data.startswith(b"-DENIED")
                                                     and not data.endswith(b"outside.\r\n")):
                    chunk = sock.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                assert data == expected


@pytest.mark.parametrize("case", ["missing cert", "key is not a key", "no CA", "port in use"])
def test_tls_startup_errors_are_one_line(certs, tmp_path, case):
    tls_port = free_port()
    args = _tls_args(certs, tls_port)
    blocker = None
    if case == "missing cert":
        args[3] = str(tmp_path / "nope.crt")
        expected = (f"ledis: tls error ({tmp_path / 'nope.crt'}): cannot read the file: "
                    "no such file or directory")
    elif case == "key is not a key":
        args[5] = str(certs.ca_crt)
        expected = f"ledis: tls error ({certs.server_crt}): not a usable certificate/key pair"
    elif case == "no CA":
        args = args[:6]
        expected = "ledis: tls error (tls-ca-cert-file): tls-ca-cert-file must be specified"
    else:
        blocker = socket.socket()
        blocker.bind(("127.0.0.1", tls_port))
        blocker.listen(1)
        expected = f"ledis: cannot listen for TLS (127.0.0.1:{tls_port}): address already in use"
    data = tmp_path / "db"
    try:
        proc = subprocess.run([sys.executable, "-m", "ledis", "server", "--port",
                               str(free_port()), "--dir", str(data), *args], cwd=str(ROOT),
                              capture_output=True, text=True, timeout=60, check=False)
    finally:
        if blocker is not None:
            blocker.close()
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(expected), proc.stderr
    assert not data.exists() and not os.path.exists(tmp_path / "db.checkpoints")
