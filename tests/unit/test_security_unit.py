"""The security rules without sockets (ledis/security.py): Redis 7.0's protected-mode
decision over peer addresses, the rename-command table, constant-time password checks and
the TLS context's refusals. tests/test_security.py checks the same through real servers."""

from __future__ import annotations

import ast
import shutil
import ssl
import subprocess
from pathlib import Path

import pytest

from ledis import errors
from ledis.config import Config, ConfigError
from ledis.security import (
    TlsError,
    command_table,
    is_loopback_peer,
    passwords_match,
    peer_host,
    protected_mode_denies,
    renamed_commands,
    tls_context,
)
from ledis.server.compose import load_commands

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def registry():
    load_commands()
    from ledis.commands.registry import REGISTRY

    return REGISTRY.commands


# --- protected mode ---------------------------------------------------------------------------
@pytest.mark.parametrize("peer, local", [
    ("127.0.0.1", True),
    ("::1", True),
    ("127.0.0.2", False),  # Redis 7.0 compares the text: the rest of 127/8 is remote
    ("::ffff:127.0.0.1", False),
    ("10.1.2.3", False),
    ("192.168.0.10", False),
    ("8.8.8.8", False),
    ("2001:4860:4860::8888", False),
    ("fe80::1", False),
])
def test_protected_mode_decision_over_peer_addresses(peer, local):
    assert is_loopback_peer(peer) is local
    # denied only when protected mode is on AND the default user has no password
    assert protected_mode_denies(True, True, peer) is (not local)
    assert protected_mode_denies(False, True, peer) is False
    assert protected_mode_denies(True, False, peer) is False


def test_protected_mode_peer_from_transport_info():
    assert peer_host(("10.0.0.5", 51000)) == "10.0.0.5"
    assert peer_host(("::1", 51000, 0, 0)) == "::1"
    assert peer_host("") == ""  # a Unix socket: Redis always accepts those
    assert protected_mode_denies(True, True, peer_host("")) is False


def test_denied_text_is_redis_7_0s():
    assert errors.DENIED_PROTECTED.startswith(
        "DENIED Redis is running in protected mode because protected mode is enabled and no "
        "password is set for the default user.")
    assert errors.DENIED_PROTECTED.endswith("accepting connections from the outside.")
    if shutil.which("redis-server"):  # the exact bytes of the reference binary
        binary = Path(shutil.which("redis-server")).read_bytes()
        assert b"-" + errors.DENIED_PROTECTED.encode() + b"\r\n" in binary


# --- rename-command ---------------------------------------------------------------------------
def test_rename_removes_and_renames(registry):
    table = renamed_commands(registry, {"FLUSHALL": "", "config": "ADMIN-CONFIG"})
    assert b"flushall" not in table and b"config" not in table
    renamed = table[b"admin-config"]
    assert renamed is registry[b"config"]  # only the key changes: the command keeps its name
    assert renamed.name == "config" and renamed.subcommands[b"get"].name == "config|get"
    assert len(table) == len(registry) - 1
    assert b"flushall" in registry and b"config" in registry  # the registry is untouched
    assert renamed_commands(registry, {}) is registry  # nothing to rename: no copy


@pytest.mark.parametrize("renames, message", [
    ({"NOSUCH": ""}, "No such command in rename-command: NOSUCH"),
    ({"GET": "SET"}, "Target command name already exists: set"),
    ({"config|get": "x"}, "only top-level commands can be renamed"),
])
def test_rename_refuses_like_redis(registry, renames, message):
    with pytest.raises(ValueError, match=message.replace("|", r"\|")):
        renamed_commands(registry, renames)
    config = Config()
    config.set("rename_command", renames)
    with pytest.raises(ConfigError, match="bad value for 'rename_command'"):
        command_table(registry, config)


def test_rename_option_shape(tmp_path):
    path = tmp_path / "ledis.yaml"
    path.write_text('security:\n  rename_command:\n    FLUSHALL: ""\n    CONFIG: ADMIN-CONFIG\n')
    config = Config()
    config.load_yaml(str(path))
    assert config.rename_command == {"FLUSHALL": "", "CONFIG": "ADMIN-CONFIG"}
    path.write_text("rename_command: [FLUSHALL]\n")
    with pytest.raises(ConfigError, match="bad value for 'rename_command'"):
        Config().load_yaml(str(path))


# --- passwords --------------------------------------------------------------------------------
def test_passwords_match():
    assert passwords_match(b"s3cret", "s3cret")
    assert passwords_match("s3cret", b"s3cret")
    assert not passwords_match(b"s3cre", "s3cret")
    assert not passwords_match(b"s3cret!", "s3cret")
    assert not passwords_match(b"", "s3cret")


_SECRET_WORDS = ("requirepass", "masterauth", "password", "token")


def _mentions_secret(node: ast.AST) -> bool:
    return any(word in ast.unparse(node).lower() for word in _SECRET_WORDS)


def test_no_password_is_compared_with_equality():
    """Every password check goes through passwords_match (hmac.compare_digest): no ``==`` or
    ``!=`` between a password-like value and anything but a constant ("" / None)."""
    offenders = []
    for path in sorted((ROOT / "ledis").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if not isinstance(node, ast.Compare):
                continue
            if not any(isinstance(op, (ast.Eq, ast.NotEq)) for op in node.ops):
                continue
            operands = [node.left, *node.comparators]
            if any(isinstance(o, ast.Constant) for o in operands):
                continue  # "is it set?" tests, not comparisons of two secrets
            if any(_mentions_secret(o) for o in operands):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    assert not offenders, offenders


# --- TLS --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl CLI missing (tests/run.sh installs it)")
    from tests.tls_helpers import make_certs

    return make_certs(tmp_path_factory.mktemp("certs"))


def _tls_config(certs, **options) -> Config:
    config = Config()
    config.tls_port = 1
    config.tls_cert_file = str(certs.server_crt)
    config.tls_key_file = str(certs.server_key)
    config.tls_ca_cert_file = str(certs.ca_crt)
    for name, value in options.items():
        config.set(name, value)
    return config


def test_tls_context_from_the_redis_options(certs):
    context = tls_context(_tls_config(certs))
    assert context.verify_mode == ssl.CERT_REQUIRED  # tls-auth-clients yes, Redis's default
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
    assert context.maximum_version == ssl.TLSVersion.TLSv1_3
    assert tls_context(_tls_config(certs, tls_auth_clients="optional")).verify_mode \
        == ssl.CERT_OPTIONAL
    only13 = tls_context(_tls_config(certs, tls_protocols="TLSv1.3"))
    assert only13.minimum_version == only13.maximum_version == ssl.TLSVersion.TLSv1_3


@pytest.mark.parametrize("change, where, why", [
    ({"tls_cert_file": ""}, "tls-cert-file", "required"),
    ({"tls_ca_cert_file": ""}, "tls-ca-cert-file", "must be specified"),
    ({"tls_cert_file": "/nonexistent/server.crt"}, "/nonexistent/server.crt",
     "cannot read the file: no such file or directory"),
    ({"tls_key_file": "CA"}, "SERVER_CRT", "not a usable certificate/key pair"),
    ({"tls_ca_cert_file": "KEY"}, "KEY", "not a usable CA certificate file"),
    ({"tls_protocols": "SSLv3"}, "tls-protocols", "unknown protocol 'SSLv3'"),
])
def test_tls_context_refusals(certs, change, where, why):
    names = {"CA": str(certs.ca_crt), "KEY": str(certs.server_key),
             "SERVER_CRT": str(certs.server_crt)}
    config = _tls_config(certs)
    for name, value in change.items():
        setattr(config, name, names.get(value, value))
    with pytest.raises(TlsError) as info:
        tls_context(config)
    assert info.value.where == names.get(where, where)
    assert why in info.value.why


def test_no_ca_needed_when_clients_are_not_asked_for_certificates(certs):
    config = _tls_config(certs, tls_auth_clients="no")
    config.tls_ca_cert_file = ""
    assert tls_context(config).verify_mode == ssl.CERT_NONE


def test_openssl_made_a_chain_python_accepts(certs):
    out = subprocess.run(["openssl", "verify", "-CAfile", str(certs.ca_crt),
                          str(certs.server_crt), str(certs.client_crt)],
                         capture_output=True, text=True, check=True).stdout
    assert out.count(": OK") == 2
