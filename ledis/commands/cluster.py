"""CLUSTER, READONLY, READWRITE, ASKING: answered as a Redis 7.0 without cluster support.

ledis has no cluster mode (partitioning is twemproxy's job, see docs/cluster.md), so it
answers these the way ``redis-server`` with ``cluster-enabled no`` does: every CLUSTER
subcommand (HELP included) and READONLY / READWRITE / ASKING fail with ``ERR This instance has
cluster support disabled``. They are still declared one by one, with Redis's arity and flags,
so that arity errors, ``unknown subcommand`` errors, COMMAND INFO / DOCS and the scripting
rules (``noscript`` on CLUSTER RESET) are Redis's; cluster clients (redis-py's RedisCluster,
redis-cli --cluster) then see a plain server and say so.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.registry import command
from ledis.errors import LedisError

# (subcommand, arity, flags) as in Redis 7.0's COMMAND INFO CLUSTER.
_SUBCOMMANDS = (
    ("addslots", -3, "admin stale no_async_loading"),
    ("addslotsrange", -4, "admin stale no_async_loading"),
    ("bumpepoch", 2, "admin stale no_async_loading"),
    ("count-failure-reports", 3, "admin stale"),
    ("countkeysinslot", 3, "stale"),
    ("delslots", -3, "admin stale no_async_loading"),
    ("delslotsrange", -4, "admin stale no_async_loading"),
    ("failover", -2, "admin stale no_async_loading"),
    ("flushslots", 2, "admin stale no_async_loading"),
    ("forget", 3, "admin stale no_async_loading"),
    ("getkeysinslot", 4, "stale"),
    ("help", 2, "loading stale"),
    ("info", 2, "stale"),
    ("keyslot", 3, "stale"),
    ("links", 2, "stale"),
    ("meet", -4, "admin stale no_async_loading"),
    ("myid", 2, "stale"),
    ("nodes", 2, "stale"),
    ("replicas", 3, "admin stale"),
    ("replicate", 3, "admin stale no_async_loading"),
    ("reset", -2, "admin noscript stale"),
    ("saveconfig", 2, "admin stale no_async_loading"),
    ("set-config-epoch", 3, "admin stale no_async_loading"),
    ("setslot", -4, "admin stale no_async_loading"),
    ("shards", 2, "stale"),
    ("slaves", 3, "admin stale"),
    ("slots", 2, "stale"),
)


def cmd_cluster_disabled(ctx, argv):
    raise LedisError(errors.CLUSTER_DISABLED)


for _name, _arity, _flags in _SUBCOMMANDS:
    # summary and since from Redis's docs; every one of them answers CLUSTER_DISABLED
    command(f"cluster|{_name}", arity=_arity, flags=_flags, group="cluster",
            acl="@admin @slow @dangerous" if "admin" in _flags else "@slow",
            )(cmd_cluster_disabled)


@command("readonly", arity=1, flags="loading stale fast", group="cluster",
         summary="Enables read queries for a connection to a cluster replica node",
         since="3.0.0", acl="@fast @connection")
def cmd_readonly(ctx, argv):
    raise LedisError(errors.CLUSTER_DISABLED)


@command("readwrite", arity=1, flags="loading stale fast", group="cluster",
         summary="Disables read queries for a connection to a cluster replica node",
         since="3.0.0", acl="@fast @connection")
def cmd_readwrite(ctx, argv):
    raise LedisError(errors.CLUSTER_DISABLED)


@command("asking", arity=1, flags="fast", group="cluster",
         summary="Sent by cluster clients after an -ASK redirect", since="3.0.0",
         acl="@fast @connection")
def cmd_asking(ctx, argv):
    raise LedisError(errors.CLUSTER_DISABLED)
