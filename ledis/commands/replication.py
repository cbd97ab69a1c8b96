"""Replication commands: REPLICAOF/SLAVEOF, ROLE, REPLCONF, WAIT, and the internal
``LEDIS.SYNC`` that turns a connection into a replication link (``docs/replication.md``),
plus ``LEDIS.DIGEST``, a hash of the logical content of every database used to check that a
master and its replicas hold the same data.
"""

from __future__ import annotations

import hashlib

from ledis import errors
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Raw, Simple
from ledis.storage import layout
from ledis.storage.layout import DATA, U64

_NO_REPLY = Raw(b"")
_ALREADY = Simple(b"OK Already connected to specified master")


def _repl(ctx):
    return ctx.core.replication


def _replicaof(ctx, argv):
    host, port_raw = argv[1], argv[2]
    repl = _repl(ctx)
    if host.lower() == b"no" and port_raw.lower() == b"one":
        repl.promote()
        return OK
    try:
        port = int(port_raw)
    except ValueError:
        raise LedisError(errors.INVALID_MASTER_PORT) from None
    if not 0 <= port <= 65535 or not port_raw.isdigit():
        raise LedisError(errors.INVALID_MASTER_PORT)
    if not repl.replicaof(host.decode("utf-8", "replace"), port):
        return _ALREADY
    return OK


@command("replicaof", arity=3, flags="admin noscript stale no_async_loading", group="server",
         since="5.0.0", acl="@admin @slow @dangerous")
def cmd_replicaof(ctx, argv):
    return _replicaof(ctx, argv)


@command("slaveof", arity=3, flags="admin noscript stale no_async_loading", group="server",
         since="1.0.0", acl="@admin @slow @dangerous")
def cmd_slaveof(ctx, argv):
    return _replicaof(ctx, argv)


@command("role", arity=1, flags="noscript loading stale fast", group="server",
         summary="Return the role of the instance in the context of replication",
         since="2.8.12", acl="@admin @fast @dangerous")
def cmd_role(ctx, argv):
    repl = _repl(ctx)
    engine = ctx.core.engine
    link = repl.link
    if link is None:
        replicas = [[rl.ip.encode(), b"%d" % rl.port, b"%d" % rl.ack]
                    for rl in repl.master.links_in_order()]
        return [b"master", engine.log_seq, replicas]
    state = {"connect": b"connect", "connecting": b"connecting", "sync": b"sync",
             "connected": b"connected"}[link.state]
    return [b"slave", link.host.encode(), link.port, state,
            engine.log_seq if link.state == "connected" else -1]


@command("replconf", arity=-1, flags="admin noscript loading stale allow_busy", group="server",
         summary="An internal command for configuring the replication stream", since="3.0.0",
         acl="@admin @slow @dangerous")
def cmd_replconf(ctx, argv):
    if len(argv) % 2 == 0:
        raise LedisError(errors.SYNTAX)
    for i in range(1, len(argv), 2):
        option = argv[i].lower()
        value = argv[i + 1]
        if option == b"ack":
            _repl(ctx).master.on_ack(ctx, parse_int(value))
            return _NO_REPLY  # Redis never answers an ACK
        if option in (b"listening-port", b"ip-address"):
            if option == b"listening-port":
                ctx.extra["listening_port"] = parse_int(value)
            else:
                ctx.extra["announce_ip"] = value.decode("utf-8", "replace")
        elif option in (b"capa", b"rdb-only", b"rdb-filter-only"):
            pass
        elif option == b"getack":
            return _NO_REPLY
        else:
            raise LedisError(errors.REPLCONF_UNKNOWN.format(
                argv[i].decode("utf-8", "replace")))
    return OK


@command("ledis.sync", arity=-3, flags="admin noscript no_multi", group="server",
         summary="Internal: start streaming the write log after <seq> of history <replid>",
         since="1.0.0", acl="@admin @slow @dangerous")
def cmd_ledis_sync(ctx, argv):
    if len(argv) > 4:
        raise LedisError(errors.SYNTAX)
    seq = parse_int(argv[2])
    if ctx.conn is None or getattr(ctx.conn, "transport", None) is None:
        raise LedisError(errors.SYNC_NEEDS_CONNECTION)
    _repl(ctx).master.attach(ctx, [argv[1], *argv[3:4]], seq)
    return _NO_REPLY


@command("wait", arity=3, flags="noscript", group="generic",
         summary="Wait for the synchronous replication of all the write commands sent in the "
                 "context of the current connection", since="3.0.0", acl="@slow @connection")
def cmd_wait(ctx, argv):
    numreplicas = parse_int(argv[1])
    timeout = parse_int(argv[2])
    if timeout < 0:
        raise LedisError(errors.TIMEOUT_NEGATIVE)
    repl = _repl(ctx)
    if repl.link is not None:
        raise LedisError(errors.WAIT_ON_REPLICA)
    return repl.master.wait(ctx, numreplicas, timeout)


@command("ledis.digest", arity=1, flags="readonly", group="server",
         summary="SHA1 of the logical content of all databases (40 zeros when empty)",
         since="1.0.0", acl="@read @slow")
def cmd_ledis_digest(ctx, argv):
    return digest(ctx.core)


def digest(core) -> bytes:
    """Hash every live key of every logical db: key, type, expiry, value (strings) or the
    size and every sub-entry of the collection (``data`` family; the ``zscore`` index is
    derived from it). Independent of versions, so two servers with the same data but
    different histories agree."""
    engine = core.engine
    h = hashlib.sha1()
    empty = True
    for db in core.store.dbs:
        h.update(b"db%d" % db.logical)
        for key, raw in db.scan_keys():
            if not db.is_live(raw):
                continue
            empty = False
            h.update(U64.pack(len(key)))
            h.update(key)
            h.update(raw[:9])
            if raw[0] == layout.STRING:
                h.update(U64.pack(len(raw) - 9))
                h.update(raw[9:])
                continue
            h.update(raw[17:])  # size + type extras
            prefix = layout.sub_prefix(db.index, U64.unpack_from(raw, 9)[0])
            n = len(prefix)
            for sub, value in engine.iterate(DATA, prefix, layout.prefix_end(prefix)):
                h.update(U64.pack(len(sub) - n))
                h.update(sub[n:])
                h.update(U64.pack(len(value)))
                h.update(value)
    return b"0" * 40 if empty else h.hexdigest().encode()
