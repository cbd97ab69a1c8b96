"""ACL commands: SETUSER, GETUSER, DELUSER, LIST, USERS, WHOAMI, CAT, GENPASS, DRYRUN, LOG,
SAVE, LOAD, HELP (Redis 7.0's texts and reply shapes).

They parse arguments and shape replies; users, rules, the check and the log live in
``ledis/acl.py`` (``core.acl``).
"""

from __future__ import annotations

import os

from ledis import errors
from ledis.acl import CATEGORIES
from ledis.commands.args import parse_int
from ledis.commands.registry import command
from ledis.errors import LedisError
from ledis.replies import OK, Double, Map, Simple

_ADMIN = "admin noscript loading stale"
_ADMIN_ACL = "@admin @slow @dangerous"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "surrogateescape")


@command("acl|setuser", arity=-3, flags=_ADMIN, group="server", since="6.0.0",
         summary="Modify or create the rules for a specific ACL user", acl=_ADMIN_ACL)
def cmd_acl_setuser(ctx, argv):
    ctx.core.acl.set_user(argv[2], [_text(a) for a in argv[3:]])
    return OK


@command("acl|getuser", arity=3, flags=_ADMIN, group="server", since="6.0.0",
         summary="Get the rules for a specific ACL user", acl=_ADMIN_ACL)
def cmd_acl_getuser(ctx, argv):
    acl = ctx.core.acl
    user = acl.users.get(argv[2])
    if user is None:
        return None
    universe = acl.universe
    root = user.root
    return Map({
        b"flags": [f.encode() for f in user.flags()],
        b"passwords": [p.encode() for p in user.passwords],
        b"commands": root.commands_text(universe).encode(),
        b"keys": root.keys_text().encode("utf-8", "surrogateescape"),
        b"channels": root.channels_text().encode("utf-8", "surrogateescape"),
        b"selectors": [Map({
            b"commands": s.commands_text(universe).encode(),
            b"keys": s.keys_text().encode("utf-8", "surrogateescape"),
            b"channels": s.channels_text().encode("utf-8", "surrogateescape"),
        }) for s in user.selectors],
    })


@command("acl|deluser", arity=-3, flags=_ADMIN, group="server", since="6.0.0",
         summary="Remove the specified ACL users and the associated rules", acl=_ADMIN_ACL)
def cmd_acl_deluser(ctx, argv):
    return ctx.core.acl.delete_users(argv[2:])


@command("acl|list", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         summary="List the current ACL rules in ACL config file format", acl=_ADMIN_ACL)
def cmd_acl_list(ctx, argv):
    return [line.encode("utf-8", "surrogateescape") for line in ctx.core.acl.lines()]


@command("acl|users", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         summary="List the username of all the configured ACL rules", acl=_ADMIN_ACL)
def cmd_acl_users(ctx, argv):
    return sorted(ctx.core.acl.users)


@command("acl|whoami", arity=2, flags="noscript loading stale", group="server",
         since="6.0.0", summary="Return the name of the user associated to the current "
         "connection", acl="@slow")
def cmd_acl_whoami(ctx, argv):
    return ctx.user.name


@command("acl|cat", arity=-2, flags="noscript loading stale", group="server", since="6.0.0",
         summary="List the ACL categories or the commands inside a category", acl="@slow")
def cmd_acl_cat(ctx, argv):
    if len(argv) > 3:
        raise LedisError(errors.ACL_SUBCOMMAND_SYNTAX.format(_text(argv[1])))
    if len(argv) == 2:
        return [c.encode() for c in CATEGORIES]
    cat = argv[2].lower().decode("utf-8", "replace")
    if cat not in CATEGORIES:
        raise LedisError(errors.ACL_UNKNOWN_CATEGORY.format(_text(argv[2])))
    return [n.encode() for n in ctx.core.acl.universe.in_category(cat)]


@command("acl|genpass", arity=-2, flags="noscript loading stale", group="server",
         since="6.0.0", summary="Generate a pseudorandom secure password to use for ACL users",
         acl="@slow")
def cmd_acl_genpass(ctx, argv):
    if len(argv) > 3:
        raise LedisError(errors.ACL_SUBCOMMAND_SYNTAX.format(_text(argv[1])))
    bits = 256
    if len(argv) == 3:
        bits = parse_int(argv[2])
        if bits <= 0 or bits > 4096:
            raise LedisError(errors.ACL_GENPASS_BITS)
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("acl|dryrun", arity=-4, flags=_ADMIN, group="server", since="7.0.0",
         summary="Returns whether the user can execute the given command without executing "
         "the command.", acl=_ADMIN_ACL)
def cmd_acl_dryrun(ctx, argv):
    core = ctx.core
    user = core.acl.users.get(argv[2])
    if user is None:
        raise LedisError(errors.ACL_USER_NOT_FOUND.format(_text(argv[2])))
    target = argv[3:]
    cmd = core.commands.get(target[0].lower())
    if cmd is not None and cmd.subcommands and len(target) >= 2:
        cmd = cmd.subcommands.get(target[1].lower(), cmd if cmd.handler else None)
    if cmd is None:
        raise LedisError(errors.ACL_COMMAND_NOT_FOUND.format(_text(target[0])))
    if (cmd.arity > 0 and len(target) != cmd.arity) or len(target) < -cmd.arity:
        raise LedisError(errors.WRONG_ARITY.format(cmd.name))
    denied = core.acl.dry_run(user, cmd, target)
    return OK if denied is None else denied


@command("acl|log", arity=-2, flags=_ADMIN, group="server", since="6.0.0",
         summary="List latest events denied because of ACLs in place", acl=_ADMIN_ACL)
def cmd_acl_log(ctx, argv):
    import time

    acl = ctx.core.acl
    if len(argv) > 3:
        raise LedisError(errors.ACL_SUBCOMMAND_SYNTAX.format(_text(argv[1])))
    count = 10
    if len(argv) == 3:
        if argv[2].upper() == b"RESET":
            acl.log.clear()
            return OK
        count = max(parse_int(argv[2]), 0)  # Redis answers a negative count with no entries
    now = time.time()
    return [Map({
        b"count": e.count,
        b"reason": e.reason.encode(),
        b"context": e.context.encode(),
        b"object": e.object,
        b"username": e.username,
        b"age-seconds": Double(round(now - e.created, 3)),
        b"client-info": e.client_info.encode("utf-8", "replace"),
    }) for e in list(acl.log)[:count]]


@command("acl|save", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         summary="Save the current ACL rules in the configured ACL file", acl=_ADMIN_ACL)
def cmd_acl_save(ctx, argv):
    ctx.core.acl.save()
    return OK


@command("acl|load", arity=2, flags=_ADMIN, group="server", since="6.0.0",
         summary="Reload the ACLs from the configured ACL file", acl=_ADMIN_ACL)
def cmd_acl_load(ctx, argv):
    ctx.core.acl.load()
    return OK


_ACL_HELP = """ACL <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
CAT [<category>]
    List all commands that belong to <category>, or all command categories
    when no category is specified.
DELUSER <username> [<username> ...]
    Delete a list of users.
DRYRUN <username> <command> [<arg> ...]
    Returns whether the user can execute the given command without executing the command.
GETUSER <username>
    Get the user's details.
GENPASS [<bits>]
    Generate a secure 256-bit user password. The optional `bits` argument can
    be used to specify a different size.
LIST
    Show users details in config file format.
LOAD
    Reload users from the ACL file.
LOG [<count> | RESET]
    Show the ACL log entries.
SAVE
    Save the current config to the ACL file.
SETUSER <username> <attribute> [<attribute> ...]
    Create or modify a user with the specified attributes.
USERS
    List all the registered usernames.
WHOAMI
    Return the current connection username.
HELP
    Prints this help."""


@command("acl|help", arity=2, flags="loading stale", group="server", since="6.0.0",
         summary="Show helpful text about the different subcommands", acl="@slow")
def cmd_acl_help(ctx, argv):
    return [Simple(line.encode()) for line in _ACL_HELP.split("\n")]
