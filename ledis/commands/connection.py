"""Connection commands: PING, ECHO, QUIT, RESET, SELECT, AUTH, HELLO, CLIENT."""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, PONG


@command("ping", arity=-1, flags="fast", group="connection",
         summary="Ping the server", acl="@fast @connection")
def cmd_ping(ctx, argv):
    if len(argv) > 2:
        raise LedisError(errors.WRONG_ARITY.format("ping"))
    return PONG if len(argv) == 1 else argv[1]


@command("echo", arity=2, flags="fast", group="connection",
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
         acl="@keyspace @fast @connection")
def cmd_select(ctx, argv):
    index = parse_int(argv[1], errors.INVALID_DB_INDEX)
    if not 0 <= index < len(ctx.core.store.dbs):
        raise LedisError(errors.DB_INDEX)
    ctx.select(index)
    return OK


@command("hello", arity=-1, flags="noscript loading stale fast no_auth allow_busy",
         group="connection", summary="Handshake with Redis", since="6.0.0",
         acl="@fast @connection")
def cmd_hello(ctx, argv):
    from ledis import REDIS_VERSION
    from ledis.commands.args import ArgCursor
    from ledis.replies import Map

    args = ArgCursor(argv, 1)
    proto = ctx.resp
    if args:
        raw = args.take()
        try:
            proto = parse_int(raw, "ERR Protocol version is not an integer or out of range")
        except LedisError:
            raise
        if proto not in (2, 3):
            raise LedisError(errors.NOPROTO)
    name = None
    password = None
    while args:
        if args.eat(b"AUTH"):
            if args.remaining() < 2:
                raise LedisError(errors.SYNTAX)
            args.take()
            password = args.take()
        elif args.eat(b"SETNAME"):
            name = args.take()
        else:
            raise LedisError(f"ERR Syntax error in HELLO option '{args.take().decode(errors='replace')}'")
    if password is not None:
        check_password(ctx, password)
    if not ctx.authenticated:
        raise LedisError("NOAUTH HELLO must be called with the client already authenticated, "
                         "otherwise the HELLO <proto> AUTH <user> <pass> option can be used to "
                         "authenticate the client and select the RESP protocol version at the "
                         "same time")
    if name is not None:
        ctx.name = name
    ctx.resp = proto
    role = b"replica" if ctx.core.readonly else b"master"
    return Map({
        b"server": b"redis", b"version": REDIS_VERSION.encode(), b"proto": proto,
        b"id": ctx.id, b"mode": b"standalone", b"role": role, b"modules": [],
    })


def check_password(ctx, password: bytes) -> None:
    """AUTH / HELLO AUTH: compare with requirepass."""
    required = ctx.core.config.requirepass
    if not required:
        raise LedisError(errors.AUTH_NOT_CONFIGURED)
    if password != required.encode():
        raise LedisError(errors.WRONGPASS)
    ctx.authenticated = True
