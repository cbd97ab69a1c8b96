"""CLIENT TRACKING, CLIENT CACHING, CLIENT GETREDIR, CLIENT TRACKINGINFO (Redis 6/7).

This module parses the options and shapes the replies; the tables, the hooks on reads and
writes and the invalidation messages live in ``ledis.tracking``.
"""

from __future__ import annotations

from ledis import errors
from ledis.commands.args import ArgCursor
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Map, SetReply
from ledis.tracking import ClientTracking, tracker

_FLAGS = "noscript loading stale"
_ACL = "@slow @connection"


@command("client|tracking", arity=-3, flags=_FLAGS, group="connection",
         summary="Enable or disable server assisted client side caching support",
         since="6.0.0", acl=_ACL)
def cmd_client_tracking(ctx, argv):
    switch = argv[2].lower()
    redirect = 0
    bcast = optin = optout = noloop = False
    prefixes: list[bytes] = []
    args = ArgCursor(argv, 3)
    while args:
        option = args.word()
        if option == b"REDIRECT" and args:
            if redirect:
                raise LedisError(errors.TRACKING_ONE_REDIRECT)
            target = args.take_int()
            if target not in ctx.core.clients:
                raise LedisError(errors.TRACKING_NO_REDIRECT)
            redirect = target
        elif option == b"BCAST":
            bcast = True
        elif option == b"OPTIN":
            optin = True
        elif option == b"OPTOUT":
            optout = True
        elif option == b"NOLOOP":
            noloop = True
        elif option == b"PREFIX" and args:
            prefixes.append(args.take())
        else:
            raise LedisError(errors.SYNTAX)
    if switch == b"off":
        if ctx.tracking is not None:
            tracker(ctx.core).disable(ctx)
            ctx.refresh_special()
        return OK
    if switch != b"on":
        raise LedisError(errors.SYNTAX)
    current = ctx.tracking
    if current is not None and current.bcast != bcast:
        raise LedisError(errors.TRACKING_SWITCH_BCAST)
    if optin and optout:
        raise LedisError(errors.TRACKING_OPTIN_OPTOUT)
    if current is not None and ((optin and current.optout) or (optout and current.optin)):
        raise LedisError(errors.TRACKING_SWITCH_OPT)
    if bcast and (optin or optout):
        raise LedisError(errors.TRACKING_BCAST_OPT)
    if prefixes and not bcast:
        raise LedisError(errors.TRACKING_PREFIX_BCAST)
    if bcast:
        _check_prefixes(prefixes, current.prefixes if current is not None else [])
    tracker(ctx.core).enable(ctx, ClientTracking(bcast, optin, optout, noloop, redirect,
                                                 prefixes))
    return OK


def _check_prefixes(new: list[bytes], existing: list[bytes]) -> None:
    """Redis's checkPrefixCollisionsOrReply: no prefix may be a prefix of another one."""
    for i, prefix in enumerate(new):
        for other in existing:
            if other.startswith(prefix) or prefix.startswith(other):
                raise LedisError(errors.TRACKING_PREFIX_OVERLAP_EXISTING.format(
                    _text(prefix), _text(other)))
        for other in new[i + 1:]:
            if other.startswith(prefix) or prefix.startswith(other):
                raise LedisError(errors.TRACKING_PREFIX_OVERLAP.format(
                    _text(prefix), _text(other)))


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


@command("client|caching", arity=3, flags=_FLAGS, group="connection",
         summary="Instruct the server about tracking or not keys in the next request",
         since="6.0.0", acl=_ACL)
def cmd_client_caching(ctx, argv):
    state = ctx.tracking
    if state is None:
        raise LedisError(errors.TRACKING_CACHING_MODE)
    value = argv[2].lower()
    if value == b"yes":
        if not state.optin:
            raise LedisError(errors.TRACKING_CACHING_YES)
        state.caching = True
    elif value == b"no":
        if not state.optout:
            raise LedisError(errors.TRACKING_CACHING_NO)
        state.caching = False
    else:
        raise LedisError(errors.SYNTAX)
    state.clear_caching = False
    return OK


@command("client|getredir", arity=2, flags=_FLAGS, group="connection",
         summary="Get tracking notifications redirection client ID if any", since="6.0.0",
         acl=_ACL)
def cmd_client_getredir(ctx, argv):
    state = ctx.tracking
    return -1 if state is None else state.redirect


@command("client|trackinginfo", arity=2, flags=_FLAGS, group="connection",
         summary="Return information about server assisted client side caching for the current "
                 "connection", since="6.2.0", acl=_ACL)
def cmd_client_trackinginfo(ctx, argv):
    state = ctx.tracking
    if state is None:
        return Map({b"flags": SetReply([b"off"]), b"redirect": -1, b"prefixes": []})
    flags = [b"on"]
    if state.bcast:
        flags.append(b"bcast")
    if state.optin:
        flags.append(b"optin")
        if state.caching is True:
            flags.append(b"caching-yes")
    if state.optout:
        flags.append(b"optout")
        if state.caching is False:
            flags.append(b"caching-no")
    if state.noloop:
        flags.append(b"noloop")
    if state.redirect and state.redirect not in ctx.core.clients:
        state.broken = True
    if state.broken:
        flags.append(b"broken_redirect")
    prefixes = [p for p in state.prefixes if p] if state.bcast else []
    return Map({b"flags": SetReply(flags), b"redirect": state.redirect,
                b"prefixes": sorted(prefixes)})


def client_list_fields(ctx) -> tuple[str, int]:
    """CLIENT LIST's tracking flags (t, R broken redirect, B bcast) and ``redir=``."""
    state = ctx.tracking
    if state is None:
        return "", -1
    flags = "t"
    if state.broken or (state.redirect and state.redirect not in ctx.core.clients):
        flags += "R"
    if state.bcast:
        flags += "B"
    return flags, state.redirect
