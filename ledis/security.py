"""Security defaults: protected mode, rename-command, password comparison, TLS contexts.

Each piece is a small pure function here, called from the one place that applies it, so the
rule itself can be unit-tested without sockets (tests/unit/test_security_unit.py):

* **Protected mode** (:func:`protected_mode_denies`) is Redis 7.0's rule from
  ``clientAcceptHandler``: while ``protected-mode`` is yes and the default user has no
  password, a TCP client whose peer address is not exactly ``127.0.0.1`` or ``::1`` gets
  ``-DENIED ...`` and is closed. Redis 7.0 no longer asks whether ``bind`` was given (6.x did),
  and compares the peer's text, so ``127.0.0.2`` is refused too. ``ledis/server/connection.py``
  applies it when a connection is made (after the TLS handshake on the TLS port, as Redis).
* **rename-command** (:func:`renamed_commands`) builds the command table one core uses:
  the registry's table with commands removed (new name "") or moved to a new name. The
  dispatcher, COMMAND, the HTTP API, MULTI and scripts' ``redis.call`` all look commands up
  in ``Core.commands``, so doing it once there covers every entry point.
* **Passwords** are compared with :func:`passwords_match` (``hmac.compare_digest``), never
  with ``==``: the time taken does not depend on where the first differing byte is.
* **TLS** (:func:`tls_context`): one server-side ``ssl.SSLContext`` from the Redis-named
  options (``tls-cert-file``, ``tls-key-file``, ``tls-ca-cert-file``, ``tls-auth-clients``,
  ``tls-protocols``), shared by the TLS RESP port and the HTTP API (``http_tls``). Problems
  raise :class:`TlsError` naming the file or option; ``ledis/startup.py`` turns it into one
  startup line before the store is opened.
"""

from __future__ import annotations

import hmac
import ssl
from typing import TYPE_CHECKING, Any

from ledis import errors

if TYPE_CHECKING:
    from ledis.commands.registry import Command

# Redis 7.0 ``islocalClient``: the peer's address text is one of these exactly.
LOOPBACK_PEERS = frozenset(("127.0.0.1", "::1"))


def is_loopback_peer(host: str) -> bool:
    """True for the peer addresses Redis 7.0 treats as local: ``127.0.0.1`` and ``::1`` only
    (not the rest of 127/8, not ``::ffff:127.0.0.1``: ledis's IPv6 sockets are v6-only)."""
    return host in LOOPBACK_PEERS


def default_user_nopass(config: Any) -> bool:
    """Whether the default user can log in without a password. Today that is ``requirepass``
    being empty; the ACL system answers it for its ``default`` user (``nopass``) here."""
    return not config.requirepass


def protected_mode_denies(protected_mode: bool, nopass: bool, peer_host: str) -> bool:
    """Redis 7.0's protected-mode decision for a new connection from ``peer_host`` ("" for
    a peer without an IP address, a Unix socket, which Redis always accepts)."""
    return protected_mode and nopass and peer_host != "" and not is_loopback_peer(peer_host)


def peer_host(peername: Any) -> str:
    """The address part of a transport's ``peername`` (a (host, port[, ...]) tuple), or ""."""
    if isinstance(peername, tuple) and peername:
        return str(peername[0])
    return ""


def passwords_match(given: bytes | str, required: bytes | str) -> bool:
    """Constant-time comparison of a presented password with the configured one."""
    if isinstance(given, str):
        given = given.encode()
    if isinstance(required, str):
        required = required.encode()
    return hmac.compare_digest(given, required)


# --- rename-command --------------------------------------------------------------------------
def renamed_commands(commands: dict[bytes, Command], renames: dict[str, str]
                     ) -> dict[bytes, Command]:
    """The command table after Redis's ``rename-command OLD NEW`` lines: NEW "" removes OLD,
    otherwise OLD answers only to NEW. Returns ``commands`` itself when there is nothing to
    rename (the shared registry table: no copy, no cost). As in Redis 7.0, only the name a
    client sends changes: the command keeps its own name everywhere else (COMMAND and COMMAND
    INFO, INFO commandstats, the arity error, ACL GETUSER's rules), and so does every
    behaviour keyed by it (keyspace events, WATCH, keyspace triggers, key positions). Raises
    ValueError with Redis's reason."""
    if not renames:
        return commands
    table = dict(commands)
    moved: list[tuple[bytes, Command]] = []
    for old, new in renames.items():
        old_key = old.lower().encode()
        if b"|" in old_key:
            raise ValueError(errors.RENAME_SUBCOMMAND.format(old))
        cmd = table.pop(old_key, None)
        if cmd is None:
            raise ValueError(errors.RENAME_NO_SUCH_COMMAND.format(old))
        if new:
            moved.append((new.lower().encode(), cmd))
    for new_key, cmd in moved:
        if new_key in table:
            raise ValueError(errors.RENAME_TARGET_EXISTS.format(new_key.decode()))
        table[new_key] = cmd
    return table


def command_table(commands: dict[bytes, Command], config: Any) -> dict[bytes, Command]:
    """:func:`renamed_commands` for a core's config; a bad rename is a ConfigError naming
    the file, raised before the store is opened (so ``ledis server`` stops with one line)."""
    from ledis.config import ConfigError

    try:
        return renamed_commands(commands, config.rename_command)
    except ValueError as exc:
        raise ConfigError(f"bad value for 'rename_command': {exc}",
                          config.extra.get("__file__", "") or "command line") from None


# --- TLS -------------------------------------------------------------------------------------
class TlsError(Exception):
    """A TLS option that cannot work: ``where`` is the file or option, ``why`` the reason."""

    def __init__(self, where: str, why: str) -> None:
        super().__init__(f"{where}: {why}")
        self.where, self.why = where, why


_PROTOCOLS = {"TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}
_AUTH_CLIENTS = {"no": ssl.CERT_NONE, "optional": ssl.CERT_OPTIONAL, "yes": ssl.CERT_REQUIRED}


def tls_wanted(config: Any) -> bool:
    """Whether any listener needs the TLS context (the TLS RESP port or HTTPS)."""
    return bool(config.tls_port) or bool(config.http_tls and config.http_bind)


def tls_context(config: Any) -> ssl.SSLContext:
    """The server-side context for every TLS listener, or TlsError. Like Redis: a
    certificate and key are required, and a CA file whenever client certificates are asked
    for (``tls-auth-clients`` yes, the default, or optional)."""
    if not config.tls_cert_file or not config.tls_key_file:
        raise TlsError("tls-cert-file", errors.TLS_NO_CERT)
    words = config.tls_protocols.split() or ["TLSv1.2", "TLSv1.3"]
    versions = []
    for word in words:
        match = next((v for k, v in _PROTOCOLS.items() if k.lower() == word.lower()), None)
        if match is None:
            raise TlsError("tls-protocols", errors.TLS_BAD_PROTOCOLS.format(word))
        versions.append(match)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = min(versions)
    context.maximum_version = max(versions)
    for path in (config.tls_cert_file, config.tls_key_file):
        _readable(path)
    try:
        context.load_cert_chain(config.tls_cert_file, config.tls_key_file)
    except (ssl.SSLError, ValueError) as exc:
        raise TlsError(config.tls_cert_file, errors.TLS_BAD_CERT.format(_ssl_reason(exc))
                       ) from None
    mode = _AUTH_CLIENTS[config.tls_auth_clients]
    if config.tls_ca_cert_file:
        _readable(config.tls_ca_cert_file)
        try:
            context.load_verify_locations(cafile=config.tls_ca_cert_file)
        except (ssl.SSLError, ValueError) as exc:
            raise TlsError(config.tls_ca_cert_file,
                           errors.TLS_BAD_CA.format(_ssl_reason(exc))) from None
    elif mode != ssl.CERT_NONE:
        raise TlsError("tls-ca-cert-file", errors.TLS_NO_CA)
    context.verify_mode = mode
    return context


def _readable(path: str) -> None:
    try:
        with open(path, "rb"):
            pass
    except OSError as exc:
        text = exc.strerror or str(exc)
        raise TlsError(path, errors.TLS_CANNOT_READ.format(text[:1].lower() + text[1:])
                       ) from None


def _ssl_reason(exc: Exception) -> str:
    """``[SSL] PEM lib (_ssl.c:3900)`` -> ``PEM lib``: the reason without the C location."""
    text = getattr(exc, "reason", None) or str(exc)
    return " ".join(str(text).split("(_ssl.c")[0].split()).strip() or type(exc).__name__
