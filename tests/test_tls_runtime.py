"""TLS options changed at run time with CONFIG SET, as Redis 7.0 allows (applyTlsCfg,
applyTLSPort): a rotated certificate, a new CA or client-certificate rule, and a moved,
opened or closed TLS port apply to the connections accepted afterwards, on the TLS RESP port
and the HTTPS API; open connections keep theirs. An update that cannot be applied answers
Redis's error and leaves every value of the call, and TLS, as they were."""

from __future__ import annotations

import json
import shutil
import ssl
import urllib.request

import pytest
import redis

from ledis import errors
from tests.helpers import LedisProcess, free_port, wait_port


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI missing (tests/run.sh installs it)")
    from tests.tls_helpers import make_certs

    return make_certs(tmp_path_factory.mktemp("certs"))


@pytest.fixture
def tls(certs):
    """A server with a TLS port and HTTPS, client certificates optional."""
    tls_port, http_port = free_port(), free_port()
    server = LedisProcess("--tls-port", str(tls_port), "--tls-cert-file", str(certs.server_crt),
                          "--tls-key-file", str(certs.server_key), "--tls-ca-cert-file",
                          str(certs.ca_crt), "--tls-auth-clients", "optional",
                          "--http-port", str(http_port), "--http-tls", "yes").start()
    wait_port(tls_port, server.proc)
    wait_port(http_port, server.proc)
    yield server, tls_port, http_port
    server.cleanup()


def _client(port: int, ca, **kw) -> redis.Redis:
    return redis.Redis(port=port, ssl=True, ssl_ca_certs=str(ca), socket_timeout=10, **kw)


def _https(port: int, ca) -> dict:
    context = ssl.create_default_context(cafile=str(ca))
    with urllib.request.urlopen(f"https://127.0.0.1:{port}/PING", timeout=20,
                                context=context) as resp:
        return json.loads(resp.read())


def _refused(port: int, ca, **kw) -> bool:
    try:
        _client(port, ca, **kw).ping()
    except redis.ConnectionError:
        return True
    return False


def test_rotated_certificate_serves_new_connections(certs, tls):
    server, tls_port, http_port = tls
    admin = server.client()
    before = _client(tls_port, certs.ca_crt)
    assert before.set("k", "v") is True
    assert admin.config_set("tls-cert-file", str(certs.other_server_crt),
                            "tls-key-file", str(certs.other_server_key)) is True
    assert admin.config_get("tls-cert-file") == {"tls-cert-file": str(certs.other_server_crt)}
    # new connections: the new certificate (trusted through the other CA only)
    assert _client(tls_port, certs.other_ca_crt).get("k") == b"v"
    assert _refused(tls_port, certs.ca_crt)
    assert _https(http_port, certs.other_ca_crt) == {"PING": [True, "PONG"]}
    with pytest.raises(OSError):
        _https(http_port, certs.ca_crt)
    # the open connection keeps its session
    assert before.get("k") == b"v"
    # and back, in one call with CONFIG SET's other parameters
    assert admin.config_set("tls-cert-file", str(certs.server_crt), "tls-key-file",
                            str(certs.server_key), "maxmemory-samples", "7") is True
    assert _client(tls_port, certs.ca_crt).ping() is True


@pytest.mark.parametrize("name, value", [
    ("tls-cert-file", "/nonexistent/server.crt"),
    ("tls-key-file", "{other_key}"),  # does not match the certificate
    ("tls-ca-cert-file", "{server_key}"),  # not a CA file
    ("tls-protocols", "TLSv1.7"),
])
def test_update_that_cannot_apply_changes_nothing(certs, tls, name, value):
    server, tls_port, _ = tls
    admin = server.client()
    value = value.format(other_key=certs.other_server_key, server_key=certs.server_key)
    before = admin.config_get("tls-*")
    with pytest.raises(redis.ResponseError) as exc:
        admin.config_set(name, value, "maxmemory-samples", "9")
    assert str(exc.value) == (f"CONFIG SET failed (possibly related to argument '{name}') - "
                              f"{errors.TLS_UPDATE_FAILED}")
    assert admin.config_get("tls-*") == before
    assert admin.config_get("maxmemory-samples") == {"maxmemory-samples": "5"}
    assert _client(tls_port, certs.ca_crt).ping() is True
    assert "TLS configuration not applied" in server.log()


def test_client_certificate_rule_changes(certs, tls):
    server, tls_port, _ = tls
    admin = server.client()
    with_cert = {"ssl_certfile": str(certs.client_crt), "ssl_keyfile": str(certs.client_key)}
    assert _client(tls_port, certs.ca_crt).ping() is True  # optional: none needed
    assert admin.config_set("tls-auth-clients", "yes") is True
    assert _refused(tls_port, certs.ca_crt)
    assert _client(tls_port, certs.ca_crt, **with_cert).ping() is True
    # a new CA for client certificates: the old CA's clients are refused from now on
    assert admin.config_set("tls-ca-cert-file", str(certs.other_ca_crt)) is True
    assert _refused(tls_port, certs.ca_crt, **with_cert)
    assert _client(tls_port, certs.ca_crt, ssl_certfile=str(certs.other_client_crt),
                   ssl_keyfile=str(certs.other_client_key)).ping() is True
    assert admin.config_set("tls-auth-clients", "no") is True
    assert _client(tls_port, certs.ca_crt).ping() is True


def test_tls_port_moved_closed_and_reopened(certs, tls):
    server, tls_port, _ = tls
    admin = server.client()
    open_before = _client(tls_port, certs.ca_crt)
    assert open_before.ping() is True
    new_port = free_port()
    assert admin.config_set("tls-port", str(new_port)) is True
    assert admin.config_get("tls-port") == {"tls-port": str(new_port)}
    assert _client(new_port, certs.ca_crt).ping() is True
    assert _refused(tls_port, certs.ca_crt)
    assert open_before.ping() is True  # accepted before: still served
    # a port in use (the plain one): Redis's error, and the TLS port stays where it was
    with pytest.raises(redis.ResponseError) as exc:
        admin.config_set("tls-port", str(server.port))
    assert str(exc.value) == ("CONFIG SET failed (possibly related to argument 'tls-port') - "
                              f"{errors.TLS_LISTEN_FAILED}")
    assert admin.config_get("tls-port") == {"tls-port": str(new_port)}
    assert _client(new_port, certs.ca_crt).ping() is True
    assert admin.config_set("tls-port", "0") is True
    assert _refused(new_port, certs.ca_crt)
    assert admin.config_set("tls-port", str(tls_port)) is True
    assert _client(tls_port, certs.ca_crt).ping() is True


def test_tls_options_of_a_server_without_tls_are_stored(certs, tmp_path):
    """With TLS off, Redis stores the options without using them; turning the TLS port on
    then needs usable files, as at start. CONFIG REWRITE keeps what CONFIG SET turned on."""
    path = tmp_path / "ledis.yaml"
    path.write_text("# written by CONFIG REWRITE\n")
    server = LedisProcess(config=str(path)).start()
    try:
        admin = server.client()
        assert admin.config_set("tls-protocols", "yes") is True  # not checked while unused
        port = free_port()
        with pytest.raises(redis.ResponseError) as exc:
            admin.config_set("tls-port", str(port))
        assert str(exc.value).endswith(errors.TLS_UPDATE_FAILED)
        assert admin.config_get("tls-port") == {"tls-port": "0"}
        assert admin.config_set("tls-port", str(port), "tls-protocols", "TLSv1.2",
                                "tls-cert-file", str(certs.server_crt), "tls-key-file",
                                str(certs.server_key), "tls-auth-clients", "no") is True
        assert _client(port, certs.ca_crt).ping() is True
        assert _refused(port, certs.ca_crt, ssl_min_version=ssl.TLSVersion.TLSv1_3)
        assert admin.config_rewrite()
        server.restart()
        wait_port(port, server.proc)
        assert _client(port, certs.ca_crt).ping() is True
        assert server.client().config_get("tls-protocols") == {"tls-protocols": "TLSv1.2"}
    finally:
        server.cleanup()
