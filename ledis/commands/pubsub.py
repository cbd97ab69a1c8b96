"""Pub/Sub commands: SUBSCRIBE, UNSUBSCRIBE, PSUBSCRIBE, PUNSUBSCRIBE, PUBLISH, PUBSUB *.

The subscriber registry and delivery live in ``ledis.pubsub``; this module shapes the replies.
A (un)subscribe command answers one confirmation per channel (``[kind, channel, count]``, a
push in RESP3), returned as a :class:`ledis.replies.Multiple`. A subscribed client has
``ctx.special`` set, so a ``core.special_checks`` entry enforces Redis's RESP2 restriction
(only (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PING, QUIT, RESET); in RESP3 anything goes.
PING of a RESP2 subscriber answers ``["pong", arg]`` (ledis/commands/connection.py).

Sharded pub/sub (SSUBSCRIBE, SUNSUBSCRIBE, SPUBLISH, PUBSUB SHARDCHANNELS / SHARDNUMSUB)
works as on a Redis 7.0 without cluster support: shard channels are their own namespace,
counted apart (``ssubscribe`` confirmations count shard channels only, ``subscribe`` ones the
others), and messages arrive as ``smessage``.
"""

from __future__ import annotations

from ledis import errors, glob
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.pubsub import hub
from ledis.replies import Multiple, Push

_ALLOWED = frozenset({"ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                      "psubscribe", "punsubscribe", "quit", "reset"})


def install(core) -> None:
    """The composition root's registration (ledis/server/compose.py). The subscriber check
    is the dispatcher's own, where Redis makes it (after READONLY, before MASTERDOWN, CLIENT
    PAUSE and the ``special_checks``): a RESP2 subscriber may not even queue in MULTI."""
    core.subscriber_check = _subscribed_check
    core.reset_hooks.append(_forget)
    core.disconnect_hooks.append(_forget)


def _forget(ctx) -> None:
    if ctx.subscriptions or ctx.patterns or ctx.shard_subscriptions:
        hub(ctx.core).forget(ctx)


def _subscribed_check(ctx, cmd) -> None:
    """``core.subscriber_check``: a RESP2 subscriber may only run a few commands. Not inside
    EXEC: a SUBSCRIBE queued in MULTI does not stop the commands queued after it (Redis
    checks when a command arrives, not when EXEC runs it)."""
    if (ctx.resp == 2 and (ctx.subscriptions or ctx.patterns or ctx.shard_subscriptions)
            and cmd.name not in _ALLOWED and not getattr(ctx.multi, "executing", False)):
        raise ctx.core._reject(cmd, LedisError(errors.PUBSUB_CONTEXT.format(cmd.name)), ctx)


def _count(ctx) -> int:
    return len(ctx.subscriptions) + len(ctx.patterns)


def _shard_count(ctx) -> int:
    return len(ctx.shard_subscriptions)


@command("subscribe", arity=-2, flags="pubsub noscript loading stale", group="pubsub",
         summary="Listen for messages published to the given channels", since="2.0.0",
         acl="@pubsub @slow")
def cmd_subscribe(ctx, argv):
    core = ctx.core
    h = hub(core)
    replies = Multiple()
    for channel in argv[1:]:
        h.subscribe(ctx, channel)
        replies.append(Push([b"subscribe", channel, _count(ctx)]))
    ctx.special = True
    return replies


@command("psubscribe", arity=-2, flags="pubsub noscript loading stale", group="pubsub",
         summary="Listen for messages published to channels matching the given patterns",
         since="2.0.0", acl="@pubsub @slow")
def cmd_psubscribe(ctx, argv):
    core = ctx.core
    h = hub(core)
    replies = Multiple()
    for pattern in argv[1:]:
        h.psubscribe(ctx, pattern)
        replies.append(Push([b"psubscribe", pattern, _count(ctx)]))
    ctx.special = True
    return replies


def _unsubscribe(ctx, argv, kind: bytes, current: set, remove, count=_count) -> Multiple:
    replies = Multiple()
    names = argv[1:] if len(argv) > 1 else list(current)
    if not names:
        replies.append(Push([kind, None, count(ctx)]))
    for name in names:
        remove(ctx, name)
        replies.append(Push([kind, name, count(ctx)]))
    ctx.refresh_special()
    return replies


@command("unsubscribe", arity=-1, flags="pubsub noscript loading stale", group="pubsub",
         summary="Stop listening for messages posted to the given channels", since="2.0.0",
         acl="@pubsub @slow")
def cmd_unsubscribe(ctx, argv):
    return _unsubscribe(ctx, argv, b"unsubscribe", ctx.subscriptions, hub(ctx.core).unsubscribe)


@command("punsubscribe", arity=-1, flags="pubsub noscript loading stale", group="pubsub",
         summary="Stop listening for messages posted to channels matching the given patterns",
         since="2.0.0", acl="@pubsub @slow")
def cmd_punsubscribe(ctx, argv):
    return _unsubscribe(ctx, argv, b"punsubscribe", ctx.patterns, hub(ctx.core).punsubscribe)


@command("publish", arity=3, flags="pubsub loading stale fast may_replicate",
         group="pubsub", summary="Post a message to a channel", since="2.0.0", acl="@pubsub @fast")
def cmd_publish(ctx, argv):
    h = ctx.core.__dict__.get("pubsub_hub")
    if h is None:
        return 0
    return h.publish(argv[1], argv[2])


@command("ssubscribe", arity=-2, flags="pubsub noscript loading stale", keys=(1, -1, 1),
         group="pubsub", summary="Listen for messages published to the given shard channels",
         since="7.0.0", acl="@pubsub @slow")
def cmd_ssubscribe(ctx, argv):
    if ctx.multi is not None:  # run by EXEC: Redis refuses it for a DENY BLOCKING client
        raise LedisError(errors.SSUBSCRIBE_DENY_BLOCKING)
    core = ctx.core
    h = hub(core)
    replies = Multiple()
    for channel in argv[1:]:
        h.ssubscribe(ctx, channel)
        replies.append(Push([b"ssubscribe", channel, _shard_count(ctx)]))
    ctx.special = True
    return replies


@command("sunsubscribe", arity=-1, flags="pubsub noscript loading stale", keys=(1, -1, 1),
         group="pubsub", summary="Stop listening for messages posted to the given shard channels",
         since="7.0.0", acl="@pubsub @slow")
def cmd_sunsubscribe(ctx, argv):
    return _unsubscribe(ctx, argv, b"sunsubscribe", ctx.shard_subscriptions,
                        hub(ctx.core).sunsubscribe, _shard_count)


@command("spublish", arity=3, flags="pubsub loading stale fast may_replicate",
         keys=(1, 1, 1), group="pubsub", summary="Post a message to a shard channel", since="7.0.0",
         acl="@pubsub @fast")
def cmd_spublish(ctx, argv):
    h = ctx.core.__dict__.get("pubsub_hub")
    if h is None:
        return 0
    return h.spublish(argv[1], argv[2])


# --- PUBSUB ---------------------------------------------------------------------------------


def _channel_list(argv: list[bytes], channels: dict) -> list[bytes]:
    """PUBSUB CHANNELS / SHARDCHANNELS [pattern]."""
    if len(argv) > 3:
        raise LedisError(errors.PUBSUB_SUBCOMMAND_SYNTAX.format(argv[1].decode("utf-8", "replace")))
    if len(argv) == 3:
        test = glob.compile(argv[2])
        return [c for c in channels if test(c)]
    return list(channels)


def _numsub(argv: list[bytes], channels: dict) -> list:
    """PUBSUB NUMSUB / SHARDNUMSUB channel...: channel, count, channel, count..."""
    out: list = []
    for channel in argv[2:]:
        subs = channels.get(channel)
        out.append(channel)
        out.append(len(subs) if subs else 0)
    return out


@command("pubsub|channels", arity=-2, flags="pubsub loading stale", group="pubsub",
         summary="List active channels", since="2.8.0", acl="@pubsub @slow")
def cmd_pubsub_channels(ctx, argv):
    return _channel_list(argv, hub(ctx.core).channels)


@command("pubsub|numsub", arity=-2, flags="pubsub loading stale", group="pubsub",
         summary="Get the count of subscribers for channels", since="2.8.0",
         acl="@pubsub @slow")
def cmd_pubsub_numsub(ctx, argv):
    return _numsub(argv, hub(ctx.core).channels)


@command("pubsub|numpat", arity=2, flags="pubsub loading stale", group="pubsub",
         summary="Get the count of unique patterns pattern subscriptions", since="2.8.0",
         acl="@pubsub @slow")
def cmd_pubsub_numpat(ctx, argv):
    return len(hub(ctx.core).patterns)


@command("pubsub|shardchannels", arity=-2, flags="pubsub loading stale", group="pubsub",
         summary="List active shard channels", since="7.0.0", acl="@pubsub @slow")
def cmd_pubsub_shardchannels(ctx, argv):
    return _channel_list(argv, hub(ctx.core).shard_channels)


@command("pubsub|shardnumsub", arity=-2, flags="pubsub loading stale", group="pubsub",
         summary="Get the count of subscribers for shard channels", since="7.0.0",
         acl="@pubsub @slow")
def cmd_pubsub_shardnumsub(ctx, argv):
    return _numsub(argv, hub(ctx.core).shard_channels)


_HELP = [
    b"PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    b"CHANNELS [<pattern>]",
    b"    Return the currently active channels matching a <pattern> (default: '*').",
    b"NUMPAT",
    b"    Return number of subscriptions to patterns.",
    b"NUMSUB [<channel> ...]",
    b"    Return the number of subscribers for the specified channels, excluding",
    b"    pattern subscriptions(default: no channels).",
    b"SHARDCHANNELS [<pattern>]",
    b"    Return the currently active shard level channels matching a <pattern> (default: '*').",
    b"SHARDNUMSUB [<shardchannel> ...]",
    b"    Return the number of subscribers for the specified shard level channel(s)",
    b"HELP",
    b"    Prints this help.",
]


@command("pubsub|help", arity=2, flags="loading stale", group="pubsub",
         summary="Show helpful text about the different subcommands", since="6.2.0",
         acl="@slow")
def cmd_pubsub_help(ctx, argv):
    from ledis.replies import Simple

    return [Simple(line) for line in _HELP]
