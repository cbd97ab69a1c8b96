"""What ``ledis server`` checks and prepares before it creates anything.

A new user's first mistakes (port in use, a wrong ``--dir``, a bad ``--bind``) must end in one
line, ``ledis: <what> (<where>): <why>``, exit status 2, and leave nothing behind on disk. So
:func:`preflight` runs every check that can fail *before* the store is opened: the data
directory and log file are checked (not created), and the listening sockets are bound here and
handed to the asyncio servers later (``sock=``), so a port in use is found while the data
directory does not exist yet. They are bound, not listening: the port accepts connections only
once the server serves (scripts and tests take an open port to mean "ready"). Binding already
fails on a port where another server listens. TLS (``tls-port``, ``http_tls``) is checked
here too: the certificate, key and CA files are read and loaded into the one
``ssl.SSLContext`` the TLS listeners share (``ledis.security.tls_context``), so a missing or
bad file is a startup line, not a failure at the first handshake. One more check is one more
line in :func:`preflight`.

Errors after that point that still have an operator's cause (the store locked by another
server) are turned into the same :class:`StartupError` by ``ledis/cli.py``.
"""

from __future__ import annotations

import errno
import os
import socket
import ssl
from dataclasses import dataclass, field

from ledis import errors
from ledis.config import Config
from ledis.resources import runtime_problem
from ledis.security import TlsError, tls_context, tls_wanted


class StartupError(Exception):
    """Why the server cannot start: printed as one line, exit status 2."""

    def __init__(self, what: str, where: str, why: str) -> None:
        super().__init__(errors.STARTUP_LINE.format(what, where, why))
        self.what, self.where, self.why = what, where, why


@dataclass
class Listeners:
    """Sockets bound before the store opens; the servers adopt them (:func:`start_listening`)."""

    resp: list[socket.socket] = field(default_factory=list)
    http: list[socket.socket] = field(default_factory=list)
    tls: list[socket.socket] = field(default_factory=list)  # RESP over TLS (tls-port)
    ssl_context: ssl.SSLContext | None = None  # for ``tls`` and, with http_tls, ``http``

    def close(self) -> None:
        for sock in self.resp + self.http + self.tls:
            sock.close()


def preflight(config: Config) -> Listeners:
    """The startup checks, in order; each raises :class:`StartupError`. Nothing is created on
    disk here, and the returned sockets are closed again if a later check fails."""
    problem = runtime_problem()  # the Lua runtime's files shipped and compiling, LuaJIT there
    if problem is not None:
        raise StartupError(errors.STARTUP_LUA, *problem)
    if config.backend != "memory":  # the memory backend has no directory
        check_data_dir(config.dir)
    if config.logfile:
        check_logfile(config.logfile)
    listeners = Listeners(ssl_context=check_tls(config))
    try:
        listeners.resp = bind_sockets(config.bind, config.port, errors.STARTUP_LISTEN)
        if config.tls_port:
            listeners.tls = bind_sockets(config.bind, config.tls_port, errors.STARTUP_LISTEN_TLS)
        if config.http_bind:
            listeners.http = bind_sockets(config.http_bind, config.http_port,
                                          errors.STARTUP_LISTEN_HTTP)
    except BaseException:
        listeners.close()
        raise
    return listeners


def check_data_dir(path: str) -> None:
    """``path`` is a writable directory, or can be created: its nearest existing ancestor is a
    writable directory. (``os.access`` does not stop root; a file in the way does.)"""
    path = os.path.abspath(path)
    if os.path.lexists(path):
        if not os.path.isdir(path):
            raise StartupError(errors.STARTUP_DATA_DIR, path, errors.PATH_NOT_DIRECTORY)
        if not os.access(path, os.W_OK | os.X_OK):
            raise StartupError(errors.STARTUP_DATA_DIR, path,
                               errors.PATH_NOT_WRITABLE.format(path))
        return
    parent = os.path.dirname(path)
    while not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent):
        raise StartupError(errors.STARTUP_DATA_DIR, path,
                           errors.PATH_PARENT_NOT_DIRECTORY.format(parent))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise StartupError(errors.STARTUP_DATA_DIR, path,
                           errors.PATH_NOT_WRITABLE.format(parent))


def check_tls(config: Config) -> ssl.SSLContext | None:
    """The TLS listeners' context when any is configured (None otherwise); a missing,
    unreadable or unusable certificate, key or CA file is a StartupError naming it."""
    if not tls_wanted(config):
        return None
    try:
        return tls_context(config)
    except TlsError as exc:
        raise StartupError(errors.STARTUP_TLS, exc.where, exc.why) from None


def check_logfile(path: str) -> None:
    """The log file can be opened for appending (its directory exists: it is not created)."""
    path = os.path.abspath(path)
    if os.path.isdir(path):
        raise StartupError(errors.STARTUP_LOGFILE, path, errors.PATH_IS_DIRECTORY)
    parent = os.path.dirname(path)
    if not os.path.isdir(parent):
        raise StartupError(errors.STARTUP_LOGFILE, path,
                           errors.PATH_PARENT_NOT_DIRECTORY.format(parent))
    target = path if os.path.exists(path) else parent
    if not os.access(target, os.W_OK):
        raise StartupError(errors.STARTUP_LOGFILE, path, errors.PATH_NOT_WRITABLE.format(target))


def bind_sockets(hosts: str, port: int, what: str = errors.STARTUP_LISTEN
                 ) -> list[socket.socket]:
    """Bound (not yet listening) sockets for every address of the space-separated ``hosts``
    (a name may resolve to several). Port 0 asks the OS for a free port; every address then
    gets the one the first socket got. Raises StartupError naming the address that failed."""
    sockets: list[socket.socket] = []
    try:
        for host in hosts.split():
            for family, sockaddr in _resolve(host, port, what):
                sockaddr = (sockaddr[0], port, *sockaddr[2:])  # port 0: the one chosen
                where = _where(host, port)
                sock = socket.socket(family, socket.SOCK_STREAM)
                sockets.append(sock)
                try:
                    # as asyncio's create_server: restart at once over TIME_WAIT, and an IPv6
                    # socket does not also take the IPv4 port (":: 0.0.0.0" both bindable)
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                    if family == socket.AF_INET6:
                        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
                    sock.bind(sockaddr)
                except OSError as exc:
                    raise StartupError(what, where, _bind_reason(exc)) from None
                sock.setblocking(False)
                if port == 0:
                    port = sock.getsockname()[1]
    except BaseException:
        for sock in sockets:
            sock.close()
        raise
    return sockets


def start_listening(sockets: list[socket.socket], what: str = errors.STARTUP_LISTEN) -> None:
    """``listen()`` on sockets from :func:`bind_sockets`, once the server is about to serve;
    a server that took the port since the bind is reported like a bind failure."""
    for sock in sockets:
        try:
            sock.listen(511)
        except OSError as exc:
            host, port = sock.getsockname()[:2]
            raise StartupError(what, _where(host, port), _bind_reason(exc)) from None


def _resolve(host: str, port: int, what: str) -> list[tuple[int, tuple]]:
    where = _where(host, port)
    if host.replace(".", "").isdigit():  # looks like IPv4: no DNS lookup for "256.1.1.1"
        try:
            socket.inet_aton(host)
        except OSError:
            raise StartupError(what, where, errors.ADDRESS_INVALID) from None
        if host.count(".") != 3:
            raise StartupError(what, where, errors.ADDRESS_INVALID)
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                   flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise StartupError(what, where, errors.ADDRESS_UNRESOLVED.format(reason)) from None
    seen: list[tuple[int, tuple]] = []
    for family, _type, _proto, _name, sockaddr in infos:
        if (family, sockaddr) not in seen:
            seen.append((family, sockaddr))
    return seen


def _where(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind_reason(exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return errors.ADDRESS_IN_USE
    if exc.errno == errno.EADDRNOTAVAIL:
        return errors.ADDRESS_NOT_LOCAL
    if exc.errno == errno.EACCES:
        return errors.ADDRESS_DENIED
    text = exc.strerror or str(exc)
    return text[:1].lower() + text[1:]
