"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO and the CLIENT family.

They act on the caller's :class:`ledis.core.Context` (and, for CLIENT LIST/KILL, on the
contexts of the other clients in ``core.clients``). Texts and reply shapes follow Redis 7.0;
CLIENT SETINFO is Redis 7.2's (redis-py sends it on connect).

Authentication is against the ACL users (ledis/acl.py): ``AUTH pass`` (the ``default``
user, whose password ``requirepass`` sets), ``AUTH user pass`` and ``HELLO 3 AUTH user pass``;
before it, the dispatcher answers NOAUTH to every command not flagged ``no_auth``. A failed
AUTH is a WRONGPASS and an ACL LOG ``auth`` entry.
"""

from __future__ import annotations

import time

from ledis import errors
from ledis.commands.args import ArgCursor, parse_c_int, parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, PONG, Map, Simple, Verbatim

RESET = Simple(b"RESET")

# --- PING, ECHO, QUIT, SELECT ---------------------------------------------------------------


@command("ping", arity=-1, flags="fast", group="connection",
         summary="Ping the server", acl="@fast @connection")
def cmd_ping(ctx, argv):
    if len(argv) > 2:
        raise LedisError(errors.WRONG_ARITY.format("ping"))
    if ctx.resp == 2 and (ctx.subscriptions or ctx.patterns or ctx.shard_subscriptions):
        # A RESP2 subscriber gets PING as a push-shaped array, as in Redis.
        return [b"pong", argv[1] if len(argv) == 2 else b""]
    return PONG if len(argv) == 1 else argv[1]


@command("echo", arity=2, flags="loading stale fast", group="connection",
         summary="Echo the given string", acl="@fast @connection")
def cmd_echo(ctx, argv):
    return argv[1]


@command("quit", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", summary="Close the connection", acl="@fast @connection")
def cmd_quit(ctx, argv):
    ctx.close_after_reply = True
    return OK


@command("select", arity=2, flags="loading stale fast", group="connection",
         summary="Change the selected database for the current connection",
         acl="@fast @connection")
def cmd_select(ctx, argv):
    index = parse_c_int(argv[1])
    if not 0 <= index < len(ctx.core.store.dbs):
        raise LedisError(errors.DB_INDEX)
    ctx.select(index)
    return OK


@command("reset", arity=1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", summary="Reset the connection", since="6.2.0",
         acl="@fast @connection")
def cmd_reset(ctx, argv):
    """Back to a fresh connection's state: the owners of MULTI, WATCH and pub/sub state
    clean up through ``core.reset_hooks``; what is left is cleared here."""
    core = ctx.core
    for hook in core.reset_hooks:
        hook(ctx)
    ctx.multi = None
    ctx.watched = None
    ctx.subscriptions.clear()
    ctx.patterns.clear()
    ctx.shard_subscriptions.clear()
    ctx.select(0)
    ctx.resp = 2
    ctx.name = b""
    ctx.no_evict = False
    ctx.reply_mode = 0
    ctx.script_debug = False
    ctx.user = core.acl.default  # RESET logs the connection back in as ``default``
    ctx.authenticated = core.acl.auto_auth
    ctx.special = (ctx.in_script or ctx.is_replica_link or ctx.is_master_link
                   or not ctx.user.unrestricted)
    return RESET


# --- AUTH, HELLO --------------------------------------------------------------------------


def check_password(ctx, password: bytes, username: bytes | None = None,
                   command_name: bytes = b"auth") -> None:
    """AUTH / HELLO AUTH: log ``ctx`` in as the ACL user (``default`` when no name)."""
    from ledis.acl import refresh_context

    acl = ctx.core.acl
    if username is None:
        if acl.default.nopass:
            raise LedisError(errors.AUTH_NOT_CONFIGURED)
        username = b"default"
    ctx.user = acl.authenticate(ctx, username, password, command_name)
    ctx.authenticated = True
    refresh_context(ctx)


@command("auth", arity=-2, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", summary="Authenticate to the server", acl="@fast @connection")
def cmd_auth(ctx, argv):
    if len(argv) > 3:
        raise LedisError(errors.SYNTAX)
    if len(argv) == 2:
        check_password(ctx, argv[1], None, argv[0])
    else:
        check_password(ctx, argv[2], argv[1], argv[0])
    return OK


@command("hello", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", summary="Handshake with Redis", since="6.0.0",
         acl="@fast @connection")
def cmd_hello(ctx, argv):
    from ledis.version import REDIS_VERSION

    proto = 0
    pos = 1
    if len(argv) >= 2:
        proto = parse_int(argv[1], errors.HELLO_PROTO_NOT_INT)
        if not 2 <= proto <= 3:
            raise LedisError(errors.NOPROTO)
        pos = 2
    username = password = name = None
    while pos < len(argv):
        more = len(argv) - 1 - pos
        opt = argv[pos].upper()
        if opt == b"AUTH" and more >= 2:
            username, password = argv[pos + 1], argv[pos + 2]
            pos += 3
        elif opt == b"SETNAME" and more >= 1:
            name = argv[pos + 1]
            validate_name(name)
            pos += 2
        else:
            raise LedisError(errors.HELLO_SYNTAX.format(argv[pos].decode("utf-8", "replace")))
    if username is not None:
        check_password(ctx, password, username, argv[0])
    if not ctx.authenticated:
        raise LedisError(errors.HELLO_NOAUTH)
    if name is not None:
        ctx.name = name
    if proto:
        ctx.resp = proto
    role = b"replica" if ctx.core.readonly else b"master"
    return Map({
        b"server": b"redis", b"version": REDIS_VERSION.encode(), b"proto": ctx.resp,
        b"id": ctx.id, b"mode": b"standalone", b"role": role, b"modules": [],
    })


# --- CLIENT -------------------------------------------------------------------------------


def validate_name(name: bytes, message: str = errors.CLIENT_NAME_SPACES) -> None:
    """Client names and lib names: printable ASCII without spaces (Redis's rule)."""
    for c in name:
        if c < 33 or c > 126:
            raise LedisError(message)


def client_type(ctx) -> str:
    if ctx.is_master_link:
        return "master"
    if ctx.is_replica_link:
        return "replica"
    if ctx.subscriptions or ctx.patterns or ctx.shard_subscriptions:
        return "pubsub"
    return "normal"


_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica", b"slave": "replica",
          b"pubsub": "pubsub"}


def parse_client_type(raw: bytes) -> str:
    kind = _TYPES.get(raw.lower())
    if kind is None:
        raise LedisError(errors.CLIENT_UNKNOWN_TYPE.format(raw.decode("utf-8", "replace")))
    return kind


def _command_name(ctx, argv) -> str:
    """``cmd=`` of CLIENT LIST: the last command's full name (``client|list``)."""
    if not isinstance(argv, list) or not argv:
        return "NULL"
    cmd = ctx.core.commands.get(argv[0].lower())
    if cmd is None:
        return argv[0].decode("utf-8", "replace").lower()
    if cmd.subcommands and len(argv) > 1:
        sub = cmd.subcommands.get(argv[1].lower())
        if sub is not None:
            return sub.name
    return cmd.name


def client_line(ctx, current=None) -> str:
    """One CLIENT LIST line, with Redis 7.0's fields in Redis's order (7.2's lib fields
    at the end)."""
    now = time.time()
    flags = ""
    if ctx.is_replica_link:
        flags += "S"
    if ctx.is_master_link:
        flags += "M"
    if ctx.subscriptions or ctx.patterns or ctx.shard_subscriptions:
        flags += "P"
    if ctx.multi is not None:
        flags += "x"
    conn = ctx.conn
    if conn is not None and getattr(conn, "waiting", None) is not None:
        flags += "b"
    from ledis.commands.tracking import client_list_fields

    tracking_flags, redir = client_list_fields(ctx)  # CLIENT TRACKING: t, R, B
    flags += tracking_flags
    if ctx.no_evict:
        flags += "e"
    fd = -1
    if conn is not None and getattr(conn, "transport", None) is not None:
        sock = conn.transport.get_extra_info("socket")
        if sock is not None:
            fd = sock.fileno()
    argv = current if current is not None else ctx.last_cmd
    multi = len(ctx.multi) if ctx.multi is not None else -1
    return (
        f"id={ctx.id} addr={ctx.addr} laddr={ctx.laddr} fd={fd} "
        f"name={ctx.name.decode('utf-8', 'replace')} age={int(now - ctx.created)} "
        f"idle={int(now - ctx.last_interaction)} flags={flags or 'N'} db={ctx.db_index} "
        f"sub={len(ctx.subscriptions)} psub={len(ctx.patterns)} "
        f"ssub={len(ctx.shard_subscriptions)} multi={multi} "
        f"qbuf=0 qbuf-free=0 argv-mem=0 multi-mem=0 rbs=16384 rbp=0 obl=0 oll=0 omem=0 "
        f"tot-mem=0 events=r cmd={_command_name(ctx, argv)} "
        f"user={ctx.user.name.decode('utf-8', 'replace')} redir={redir} "
        f"resp={ctx.resp} lib-name={ctx.lib_name.decode('utf-8', 'replace')} "
        f"lib-ver={ctx.lib_ver.decode('utf-8', 'replace')}"
    )


@command("client|id", arity=2, flags="noscript loading stale", group="connection",
         summary="Returns the client ID for the current connection", since="5.0.0",
         acl="@slow @connection")
def cmd_client_id(ctx, argv):
    return ctx.id


@command("client|setname", arity=3, flags="noscript loading stale", group="connection",
         summary="Set the current connection name", since="2.6.9", acl="@slow @connection")
def cmd_client_setname(ctx, argv):
    validate_name(argv[2])
    ctx.name = argv[2]
    return OK


@command("client|getname", arity=2, flags="noscript loading stale", group="connection",
         summary="Get the current connection name", since="2.6.9", acl="@slow @connection")
def cmd_client_getname(ctx, argv):
    return ctx.name or None


@command("client|setinfo", arity=4, flags="noscript loading stale", group="connection",
         summary="Set client or connection specific info", since="7.2.0",
         acl="@slow @connection")
def cmd_client_setinfo(ctx, argv):
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise LedisError(errors.CLIENT_SETINFO_OPTION.format(argv[2].decode("utf-8", "replace")))
    validate_name(argv[3], errors.CLIENT_SETINFO_CHARS.format(argv[2].decode("utf-8", "replace")))
    if attr == b"lib-name":
        ctx.lib_name = argv[3]
    else:
        ctx.lib_ver = argv[3]
    return OK


@command("client|info", arity=2, flags="noscript loading stale", group="connection",
         summary="Returns information about the current client connection.", since="6.2.0",
         acl="@slow @connection")
def cmd_client_info(ctx, argv):
    return Verbatim((client_line(ctx, argv) + "\n").encode())


@command("client|list", arity=-2, flags="admin noscript loading stale", group="connection",
         summary="Get the list of client connections", since="2.4.0",
         acl="@admin @slow @dangerous @connection")
def cmd_client_list(ctx, argv):
    kind = None
    ids = None
    if len(argv) == 4 and argv[2].upper() == b"TYPE":
        kind = parse_client_type(argv[3])
    elif len(argv) >= 4 and argv[2].upper() == b"ID":
        ids = {parse_int(value, errors.CLIENT_INVALID_ID) for value in argv[3:]}
    elif len(argv) != 2:
        raise LedisError(errors.SYNTAX)
    lines = []
    for other in list(ctx.core.clients.values()):
        if kind is not None and client_type(other) != kind:
            continue
        if ids is not None and other.id not in ids:
            continue
        lines.append(client_line(other, argv if other is ctx else None) + "\n")
    return Verbatim("".join(lines).encode())


@command("client|kill", arity=-3, flags="admin noscript loading stale", group="connection",
         summary="Kill the connection of a client", since="2.4.0",
         acl="@admin @slow @dangerous @connection")
def cmd_client_kill(ctx, argv):
    clients = ctx.core.clients
    if len(argv) == 3:  # old form: CLIENT KILL addr:port
        addr = argv[2].decode("utf-8", "replace")
        for other in list(clients.values()):
            if other.addr == addr:
                _kill(ctx, other)
                return OK
        raise LedisError(errors.CLIENT_NO_SUCH)
    filters = []
    skipme = True
    args = ArgCursor(argv, 2)
    while args:
        if args.remaining() < 2:
            raise LedisError(errors.SYNTAX)
        option = args.take().upper()
        value = args.take()
        if option == b"ID":
            try:
                wanted = parse_int(value)
            except LedisError:
                wanted = 0
            if wanted <= 0:
                raise LedisError(errors.CLIENT_ID_POSITIVE)
            filters.append(lambda c, w=wanted: c.id == w)
        elif option == b"TYPE":
            kind = parse_client_type(value)
            filters.append(lambda c, k=kind: client_type(c) == k)
        elif option == b"ADDR":
            text = value.decode("utf-8", "replace")
            filters.append(lambda c, t=text: c.addr == t)
        elif option == b"LADDR":
            text = value.decode("utf-8", "replace")
            filters.append(lambda c, t=text: c.laddr == t)
        elif option == b"USER":
            user = ctx.core.acl.users.get(value)
            if user is None:
                raise LedisError(errors.CLIENT_NO_USER.format(value.decode("utf-8", "replace")))
            filters.append(lambda c, u=user: c.user is u)
        elif option == b"SKIPME":
            if value.lower() == b"yes":
                skipme = True
            elif value.lower() == b"no":
                skipme = False
            else:
                raise LedisError(errors.SYNTAX)
        else:
            raise LedisError(errors.SYNTAX)
    killed = 0
    for other in list(clients.values()):
        if skipme and other is ctx:
            continue
        if all(f(other) for f in filters):
            _kill(ctx, other)
            killed += 1
    return killed


def kill_client(other) -> None:
    """Disconnect ``other`` after its current reply (ACL DELUSER / LOAD of its user)."""
    if other.conn is not None:
        other.conn.close()  # flushes what is pending (the caller's own reply), then closes


def _kill(ctx, other) -> None:
    """Close ``other``: the caller itself gets its reply first (Redis's close-after-reply)."""
    if other is ctx:
        ctx.close_after_reply = True
        return
    conn = other.conn
    if conn is not None:
        conn.out.clear()
        conn.close()


@command("client|no-evict", arity=3, flags="admin noscript loading stale", group="connection",
         summary="Set client eviction mode for the current connection", since="7.0.0",
         acl="@admin @slow @dangerous @connection")
def cmd_client_no_evict(ctx, argv):
    value = argv[2].lower()
    if value == b"on":
        ctx.no_evict = True
    elif value == b"off":
        ctx.no_evict = False
    else:
        raise LedisError(errors.SYNTAX)
    return OK


@command("client|reply", arity=3, flags="noscript loading stale", group="connection",
         summary="Instruct the server whether to reply to commands", since="3.2.0",
         acl="@slow @connection")
def cmd_client_reply(ctx, argv):
    """ON / OFF / SKIP. The connection drops the replies (ledis.server.connection)."""
    from ledis.replies import REPLY_OFF, REPLY_SKIP_PENDING

    mode = argv[2].upper()
    if mode == b"ON":
        ctx.reply_mode = 0
    elif mode == b"OFF":
        ctx.reply_mode = REPLY_OFF
    elif mode == b"SKIP":
        if ctx.reply_mode != REPLY_OFF:
            ctx.reply_mode = REPLY_SKIP_PENDING
    else:
        raise LedisError(errors.SYNTAX)
    return OK


_CLIENT_HELP = """CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
GETNAME
    Return the name of the current connection.
ID
    Return the ID of the current connection.
INFO
    Return information about the current client connection.
KILL <ip:port>
    Kill connection made from <ip:port>.
KILL <option> <value> [<option> <value> [...]]
    Kill connections. Options are:
    * ADDR (<ip:port>|<unixsocket>:0)
      Kill connections made from the specified address
    * LADDR (<ip:port>|<unixsocket>:0)
      Kill connections made to specified local address
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Kill connections by type.
    * USER <username>
      Kill connections authenticated by <username>.
    * SKIPME (YES|NO)
      Skip killing current connection (default: yes).
LIST [options ...]
    Return information about client connections. Options:
    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)
      Return clients of specified type.
REPLY (ON|OFF|SKIP)
    Control the replies sent to the current connection.
SETNAME <name>
    Assign the name <name> to the current connection.
SETINFO <LIB-NAME|LIB-VER> <value>
    Set client library name or version.
NO-EVICT (ON|OFF)
    Protect current client connection from eviction.
HELP
    Prints this help."""


@command("client|help", arity=2, flags="loading stale", group="connection",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         acl="@slow @connection")
def cmd_client_help(ctx, argv):
    return [Simple(line.encode()) for line in _CLIENT_HELP.split("\n")]
