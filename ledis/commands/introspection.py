"""COMMAND, COMMAND COUNT / INFO / DOCS / LIST / GETKEYS / GETKEYSANDFLAGS, from the registry.

What a command *is* (name, arity, flags, first/last/step, ACL categories) comes from its
``@command`` declaration. What only documents it comes from Redis 7.0's own replies, shipped
in ``ledis/data``: ``redis_commands.json`` (tips and key specs) and
``redis_command_docs.json`` (summary, since, complexity, arguments, history; redis-cli builds
its hints from COMMAND DOCS). A ledis-only command gets a key spec derived from its key
positions and docs from its declaration.

GETKEYS evaluates the key specs as Redis's ``getKeysUsingKeySpecs`` does, so movable-key
commands (EVAL, ZUNIONSTORE, MIGRATE ...) report the right keys.
"""

from __future__ import annotations

import json
import os

from ledis import errors, glob
from ledis.commands.args import c_atoi, c_int, parse_int
from ledis.commands.registry import Command, command
from ledis.errors import LedisError
from ledis.replies import Map, SetReply, Simple

_DATA = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data")
_cache: dict[str, dict] = {}


def _load(name: str) -> dict:
    if name not in _cache:
        with open(os.path.join(_DATA, name), encoding="utf-8") as fh:
            _cache[name] = json.load(fh)
    return _cache[name]


def _reference(cmd: Command) -> dict:
    return _load("redis_commands.json").get(cmd.name, {})


def _pairs(flat: list) -> Map:
    """A RESP2 flat map (``[k1, v1, k2, v2]``) as read off Redis -> Map."""
    return Map((flat[i].encode(), _value(flat[i + 1])) for i in range(0, len(flat), 2))


def _value(v):
    if isinstance(v, str):
        return v.encode()
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, list):
        return [_value(x) for x in v]
    if isinstance(v, dict):
        return Map((k.encode(), _value(x)) for k, x in v.items())
    return v


def _statuses(words) -> SetReply:
    return SetReply(Simple(w.encode()) for w in words)


# --- key specs ------------------------------------------------------------------------------


def key_specs(cmd: Command) -> list[dict]:
    """Key specs in Redis's JSON shape: the reference's, or derived from first/last/step."""
    ref = _reference(cmd)
    if "key_specs" in ref:
        return ref["key_specs"]
    if cmd.first_key <= 0:
        return []
    flags = ["RW", "update"] if cmd.is_write else ["RO", "access"]
    last = cmd.last_key - cmd.first_key if cmd.last_key >= 0 else cmd.last_key
    return [{
        "flags": flags,
        "begin_search": {"type": "index", "spec": ["index", cmd.first_key]},
        "find_keys": {"type": "range",
                      "spec": ["lastkey", last, "keystep", cmd.step or 1, "limit", 0]},
    }]


def _spec_reply(spec: dict) -> Map:
    out = Map()
    if "notes" in spec:
        out[b"notes"] = spec["notes"].encode()
    out[b"flags"] = _statuses(spec.get("flags", []))
    for part in ("begin_search", "find_keys"):
        section = spec[part]
        out[part.encode()] = Map({b"type": section["type"].encode(),
                                  b"spec": _pairs(section["spec"])})
    return out


def _spec_args(spec_list: list) -> dict:
    return {spec_list[i]: spec_list[i + 1] for i in range(0, len(spec_list), 2)}


def keys_from_specs(cmd: Command, argv: list[bytes]) -> list[tuple[int, list[str]]] | None:
    """``[(argv index, key flags)]`` per Redis's ``getKeysUsingKeySpecs``; None where Redis
    gives up on the specs (-1): an argument that locates keys is invalid (a numkeys) or out
    of bounds, or a spec is ``incomplete`` (MIGRATE's KEYS, SORT's BY / GET)."""
    argc = len(argv)
    found: list[tuple[int, list[str]]] = []
    for spec in key_specs(cmd):
        flags = spec.get("flags", [])
        if "not_key" in flags:
            continue
        begin = spec["begin_search"]
        args = _spec_args(begin["spec"]) if begin["spec"] else {}
        if begin["type"] == "index":
            first = args["index"]
        elif begin["type"] == "keyword":
            # Redis's loop, quirks included: from ``startfrom`` up to the last word but one,
            # or from ``argc + startfrom`` down to the second word
            keyword = args["keyword"].encode().upper()
            start = args["startfrom"]
            i, end = (start, argc - 1) if start > 0 else (argc + start, 1)
            step = 1 if i <= end else -1
            first = 0
            while i != end and 1 <= i < argc:
                if argv[i].upper() == keyword:
                    first = i + 1
                    break
                i += step
            if not first:
                continue
        else:
            return None
        find = spec["find_keys"]
        fk = _spec_args(find["spec"]) if find["spec"] else {}
        if find["type"] == "range":
            lastkey, step, limit = fk["lastkey"], fk["keystep"], fk["limit"]
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + ((argc - first) // limit + lastkey)
        elif find["type"] == "keynum":
            if first + fk["keynumidx"] >= argc:
                return None
            try:
                numkeys = parse_int(argv[first + fk["keynumidx"]])
            except LedisError:
                return None
            if numkeys < 0:
                return None
            first += fk["firstkey"]
            last = first + c_int(numkeys) - 1  # Redis: first + (int)numkeys - 1
            step = fk["keystep"]
        else:
            return None
        if last >= argc or last < first or first >= argc:
            return None  # out of bounds: a syntax error in the command
        for i in range(first, last + 1, step or 1):
            found.append((i, flags))
        if "incomplete" in flags:
            return None
    return found


def getkeys(cmd: Command, argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``[(argv index, key flags)]`` of one call, as Redis's ``getKeysFromCommandWithSpecs``
    finds them for COMMAND GETKEYS and ACL key checks: the key specs when they are complete
    and their flags fixed, else the command's getkeys procedure (``_PROCS``); [] if neither
    finds a key."""
    specs = key_specs(cmd)
    if any("not_key" not in s.get("flags", ()) for s in specs) and not any(
            "variable_flags" in s.get("flags", ()) for s in specs):
        found = keys_from_specs(cmd, argv)
        if found is not None:
            return found
    proc = _PROCS.get(cmd.name)
    return proc(argv) if proc is not None else []


def has_keys(cmd: Command) -> bool:
    """Redis's ``doesCommandHaveKeys``: a getkeys procedure, or a spec that is a key."""
    return cmd.name in _PROCS or any(
        "not_key" not in s.get("flags", ()) for s in key_specs(cmd))


# --- Redis's getkeys procedures (db.c), by command name -----------------------------------
# Each reads the call as Redis's does, atoi included; flags [] where Redis gives none.


def _numkeys_proc(store: int, count: int, first: int):
    """``genericGetKeys``: numkeys read with atoi; the destination, if any, comes last."""
    def proc(argv: list[bytes]) -> list[tuple[int, list[str]]]:
        num = c_atoi(argv[count])
        if num < 1 or num > len(argv) - first:
            return []
        found: list[tuple[int, list[str]]] = [(first + i, []) for i in range(num)]
        if store:
            found.append((store, []))
        return found
    return proc


def _sort_ro_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    return [(1, ["RO", "access"])]


def _sort_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``sortGetKeys``: the sorted key and the STORE destination (the last STORE wins);
    LIMIT skips two words, BY and GET one, every other word none (not even STORE's)."""
    found = [(1, ["RO", "access"])]
    skip = {b"limit": 2, b"get": 1, b"by": 1}
    store = 0
    i = 2
    while i < len(argv):
        word = argv[i].lower()
        if word in skip:
            i += skip[word]
        elif word == b"store" and i + 1 < len(argv):
            store = i + 1
        i += 1
    if store:
        found.append((store, ["OW", "update"]))
    return found


def _migrate_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``migrateGetKeys``: the key argument, or the words after KEYS when it is empty (none
    when it is not: MIGRATE then fails on its syntax)."""
    first, num = 3, 1
    skip = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}
    i = 6
    while i < len(argv):
        word = argv[i].lower()
        if word == b"keys":
            if argv[3]:
                num = 0
            else:
                first, num = i + 1, len(argv) - i - 1
            break
        i += skip.get(word, 0) + 1
    return [(first + n, ["RW", "access", "delete"]) for n in range(num)]


def _georadius_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``georadiusGetKeys``: the key, and the last STORE / STOREDIST destination."""
    stored = -1
    i = 5
    while i < len(argv):
        if argv[i].lower() in (b"store", b"storedist") and i + 1 < len(argv):
            stored = i + 1
            i += 1
        i += 1
    found: list[tuple[int, list[str]]] = [(1, [])]
    if stored > 0:
        found.append((stored, []))
    return found


def _xread_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``xreadGetKeys``: the first half of the words after STREAMS, past the options."""
    streams = -1
    i = 1
    while i < len(argv):
        word = argv[i].lower()
        if word in (b"block", b"count"):
            i += 1
        elif word == b"group":
            i += 2
        elif word == b"streams":
            streams = i
            break
        elif word != b"noack":
            break
        i += 1
    num = len(argv) - streams - 1
    if streams < 0 or num == 0 or num % 2:
        return []
    return [(streams + 1 + n, []) for n in range(num // 2)]


def _set_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``setGetKeys``: GET (any case, anywhere after the value) makes the key read too."""
    if any(arg.lower() == b"get" for arg in argv[3:]):
        return [(1, ["RW", "access", "update"])]
    return [(1, ["OW", "update"])]


def _bitfield_keys(argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """``bitfieldGetKeys``: read-only when every operation is a complete GET or OVERFLOW."""
    i = 2
    while i < len(argv):
        rest = len(argv) - i - 1
        word = argv[i].lower()
        if word == b"get" and rest >= 2:
            i += 3
        elif word == b"overflow" and rest >= 1:
            i += 2
        else:
            return [(1, ["RW", "access", "update"])]
    return [(1, ["RO", "access"])]


_PROCS = {
    "set": _set_keys, "bitfield": _bitfield_keys, "sort": _sort_keys, "sort_ro": _sort_ro_keys,
    "migrate": _migrate_keys, "georadius": _georadius_keys,
    "georadiusbymember": _georadius_keys, "xread": _xread_keys, "xreadgroup": _xread_keys,
}
for _name, _shape in (("sintercard zunion zinter zdiff zintercard lmpop zmpop", (0, 1, 2)),
                      ("zunionstore zinterstore zdiffstore", (1, 2, 3)),
                      ("eval evalsha eval_ro evalsha_ro fcall fcall_ro blmpop bzmpop",
                       (0, 2, 3))):
    for _command in _name.split():
        _PROCS[_command] = _numkeys_proc(*_shape)


# --- COMMAND INFO -------------------------------------------------------------------------


def _acl(cmd: Command) -> list[str]:
    if cmd.acl_categories:
        return list(cmd.acl_categories)
    ref = _load("redis_commands.json")
    parent = cmd.name.split("|")[0]
    if cmd.name in ("client", "config", "command", "object", "script", "function", "memory",
                    "xinfo", "pubsub", "cluster", "acl", "module", "slowlog", "latency",
                    "xgroup") or parent != cmd.name or cmd.name in ref:
        return ["@slow"]
    return []


def command_info(cmd: Command) -> list:
    """One command in COMMAND INFO's 10-element shape, subcommands nested."""
    return [
        cmd.name.encode(), cmd.arity,
        _statuses(sorted(cmd.flags - _HIDDEN_FLAGS, key=_flag_order)),
        cmd.first_key, cmd.last_key, cmd.step,
        _statuses(_acl(cmd)), _statuses(_reference(cmd).get("tips", [])),
        [_spec_reply(s) for s in key_specs(cmd)],
        [command_info(sub) for sub in cmd.subcommands.values()],
    ]


_FLAG_ORDER = """write readonly denyoom module admin pubsub noscript blocking loading stale
    skip_monitor skip_slowlog asking fast no_auth may_replicate no_mandatory_keys
    no_async_loading no_multi movablekeys allow_busy""".split()


# Redis's addReplyCommandFlags leaves these out of COMMAND ("Hidden on purpose").
_HIDDEN_FLAGS = frozenset(("may_replicate",))


def _flag_order(flag: str) -> int:
    return _FLAG_ORDER.index(flag) if flag in _FLAG_ORDER else len(_FLAG_ORDER)


def _lookup_path(core, name: bytes) -> Command | None:
    """``get`` or ``config|get``."""
    parent, _, sub = name.lower().partition(b"|")
    cmd = core.commands.get(parent)
    if cmd is None or not sub:
        return cmd
    return cmd.subcommands.get(sub)


@command("command", arity=-1, flags="loading stale", group="server",
         summary="Get array of Redis command details", since="2.8.13",
         acl="@slow @connection")
def cmd_command(ctx, argv):  # COMMAND <unknown>: the dispatcher answers
    return [command_info(c) for c in ctx.core.commands.values()]


@command("command|count", arity=2, flags="loading stale", group="server",
         summary="Get total number of Redis commands", since="2.8.13", acl="@slow @connection")
def cmd_command_count(ctx, argv):
    return len(ctx.core.commands)


@command("command|info", arity=-2, flags="loading stale", group="server",
         summary="Get array of specific Redis command details, or all when no argument is "
         "given.", since="2.8.13", acl="@slow @connection")
def cmd_command_info(ctx, argv):
    if len(argv) == 2:
        return [command_info(c) for c in ctx.core.commands.values()]
    out = []
    for name in argv[2:]:
        cmd = _lookup_path(ctx.core, name)
        out.append(command_info(cmd) if cmd is not None else None)
    return out


@command("command|list", arity=-2, flags="loading stale", group="server",
         summary="Get an array of Redis command names", since="7.0.0", acl="@slow @connection")
def cmd_command_list(ctx, argv):
    test = None
    if len(argv) != 2:
        if len(argv) != 5 or argv[2].upper() != b"FILTERBY":
            raise LedisError(errors.SYNTAX)
        kind, value = argv[3].upper(), argv[4]
        if kind == b"MODULE":
            return []
        if kind == b"ACLCAT":
            category = "@" + value.decode("utf-8", "replace").lower()
            test = lambda c: category in _acl(c)  # noqa: E731
        elif kind == b"PATTERN":
            test = lambda c: glob.match(value, c.name.encode(), nocase=True)  # noqa: E731
        else:
            raise LedisError(errors.SYNTAX)
    out = []
    for cmd in ctx.core.commands.values():
        for c in (cmd, *cmd.subcommands.values()):
            if test is None or test(c):
                out.append(c.name.encode())
    return out


# --- COMMAND DOCS ---------------------------------------------------------------------------

_DOC_ORDER = ("summary", "since", "group", "complexity", "doc_flags", "deprecated_since",
              "replaced_by", "history", "arguments", "subcommands")


def _doc_reply(cmd: Command) -> Map:
    ref = _load("redis_command_docs.json")
    parent, _, sub = cmd.name.partition("|")
    doc = None
    if sub:
        parent_doc = ref.get(parent)
        if parent_doc and "subcommands" in parent_doc:
            flat = parent_doc["subcommands"]
            for i in range(0, len(flat), 2):
                if flat[i] == cmd.name:
                    doc = flat[i + 1]
    else:
        doc = ref.get(cmd.name)
    if doc is None:
        doc = {"summary": cmd.summary, "since": cmd.since, "group": cmd.group,
               "complexity": cmd.complexity}
        doc = {k: v for k, v in doc.items() if v}
    out = _fields(doc, _DOC_ORDER, "doc_flags")
    if cmd.subcommands:  # last in _DOC_ORDER
        out[b"subcommands"] = Map(
            (s.name.encode(), _doc_reply(s)) for s in cmd.subcommands.values())
    return out


_ARG_ORDER = ("name", "type", "display_text", "key_spec_index", "token", "summary", "since",
              "flags", "deprecated_since", "value", "arguments")


def _arg_reply(arg: dict) -> Map:
    return _fields(arg, _ARG_ORDER, "flags")


def _fields(source: dict, order: tuple[str, ...], flags_key: str) -> Map:
    """A COMMAND DOCS map of ``source``'s keys in ``order``: ``flags_key`` as statuses,
    ``arguments`` nested, the rest as values."""
    out = Map()
    for key in order:
        if key not in source or key == "subcommands":
            continue
        value = source[key]
        if key == flags_key:
            out[key.encode()] = _statuses(value)
        elif key == "arguments":
            out[b"arguments"] = [_arg_reply(a) for a in value]
        else:
            out[key.encode()] = _value(value)
    return out


@command("command|docs", arity=-2, flags="loading stale", group="server",
         summary="Get array of specific Redis command documentation", since="7.0.0",
         acl="@slow @connection")
def cmd_command_docs(ctx, argv):
    if len(argv) == 2:
        cmds = list(ctx.core.commands.values())
    else:
        cmds = [c for c in (_lookup_path(ctx.core, n) for n in argv[2:]) if c is not None]
    return Map((c.name.encode(), _doc_reply(c)) for c in cmds)


# --- COMMAND GETKEYS --------------------------------------------------------------------------


def _keys_for(ctx, argv: list[bytes]) -> list[tuple[int, list[str]]]:
    """Redis's ``getKeysSubcommandImpl``: the command as ``lookupCommand`` finds it (a
    container with a subcommand it does not have is no command), then its keys."""
    target = argv[2:]
    cmd = ctx.core.commands.get(target[0].lower())
    if cmd is not None and cmd.subcommands and len(target) > 1:
        cmd = cmd.subcommands.get(target[1].lower())
    if cmd is None:
        raise LedisError(errors.COMMAND_INVALID)
    if not has_keys(cmd):
        raise LedisError(errors.COMMAND_NO_KEYS)
    if (cmd.arity > 0 and cmd.arity != len(target)) or len(target) < -cmd.arity:
        raise LedisError(errors.COMMAND_INVALID_ARGS)
    found = getkeys(cmd, target)
    if not found:
        if "no_mandatory_keys" in cmd.flags:
            return []
        raise LedisError(errors.COMMAND_INVALID_KEYS)
    return found


@command("command|getkeys", arity=-4, flags="loading stale", group="server",
         summary="Extract keys given a full Redis command", since="2.8.13",
         acl="@slow @connection")
def cmd_command_getkeys(ctx, argv):
    return [argv[2 + i] for i, _flags in _keys_for(ctx, argv)]


@command("command|getkeysandflags", arity=-4, flags="loading stale", group="server",
         summary="Extract keys and access flags given a full Redis command", since="7.0.0",
         acl="@slow @connection")
def cmd_command_getkeysandflags(ctx, argv):
    return [[argv[2 + i], _statuses(flags)] for i, flags in _keys_for(ctx, argv)]


_COMMAND_HELP = """COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:
(no subcommand)
    Return details about all Redis commands.
COUNT
    Return the total number of commands in this Redis server.
LIST
    Return a list of all commands in this Redis server.
INFO [<command-name> ...]
    Return details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
DOCS [<command-name> ...]
    Return documentation details about multiple Redis commands.
    If no command names are given, documentation details for all
    commands are returned.
GETKEYS <full-command>
    Return the keys from a full Redis command.
GETKEYSANDFLAGS <full-command>
    Return the keys and the access flags from a full Redis command.
HELP
    Prints this help."""


@command("command|help", arity=2, flags="loading stale", group="server",
         summary="Show helpful text about the different subcommands", since="5.0.0",
         acl="@slow @connection")
def cmd_command_help(ctx, argv):
    return [Simple(line.encode()) for line in _COMMAND_HELP.split("\n")]
