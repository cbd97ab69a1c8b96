"""The ACL's rule model: the command universe, :class:`Selector` and :class:`User` with Redis
7.0's rule language (``ACL SETUSER``), their descriptions (ACL LIST / GETUSER / the ACL file)
and the permission check of one command (its keys by the registry's key specs, its channels).
:mod:`ledis.acl` holds a server's users, the ACL LOG and the ACL file, and explains the whole
design in its docstring.
"""

from __future__ import annotations

import hashlib
import hmac
import shlex
from collections.abc import Iterable
from typing import TYPE_CHECKING

from ledis import errors, glob
from ledis.errors import LedisError

if TYPE_CHECKING:  # pragma: no cover
    from ledis.commands.registry import Command

# Redis 7.0's categories, in its order (ACL CAT, and the order best-fit tries them).
CATEGORIES = (
    "keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
    "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking",
    "dangerous", "connection", "transaction", "scripting",
)

READ, WRITE = 1, 2
ALL_PERMS = READ | WRITE

# Check results, ordered as Redis orders them when picking the error of a denied command.
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
REASONS = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_AUTH: "auth",
           DENIED_CHANNEL: "channel"}

# Commands naming channels: name -> (first channel index, only that one?, patterns?).
_CHANNEL_ARGS = {
    "publish": (1, True, False),
    "spublish": (1, True, False),
    "subscribe": (1, False, False),
    "ssubscribe": (1, False, False),
    "psubscribe": (1, False, True),
}

_HEX = frozenset("0123456789abcdef")


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


class _RuleError(Exception):
    """A bad SETUSER rule; the message is Redis's reason text."""


# --- the command universe -------------------------------------------------------------------


class Universe:
    """Every registered command and subcommand by full name, with its categories."""

    def __init__(self, commands: dict[bytes, Command]) -> None:
        self.tops: list[Command] = [commands[k] for k in sorted(commands)]
        self.by_name: dict[str, Command] = {}
        self.subs: dict[str, list[str]] = {}
        self.categories: dict[str, frozenset[str]] = {}
        for cmd in self.tops:
            self._add(cmd)
            self.subs[cmd.name] = [s.name for s in sorted(cmd.subcommands.values(),
                                                          key=lambda c: c.name)]
            for sub in cmd.subcommands.values():
                self._add(sub)
        self.all_names = frozenset(self.by_name)
        # Top-level members of each category: what best-fit counts (Redis counts top level).
        self.top_members = {cat: frozenset(c.name for c in self.tops
                                           if cat in self.categories[c.name])
                            for cat in CATEGORIES}

    def _add(self, cmd: Command) -> None:
        self.by_name[cmd.name] = cmd
        cats = frozenset(c.lstrip("@") for c in cmd.acl_categories)
        self.categories[cmd.name] = cats or frozenset({"slow"})

    def lookup(self, name: str) -> Command | None:
        return self.by_name.get(name.lower())

    def in_category(self, cat: str) -> list[str]:
        """Full names in ``cat`` (ACL CAT <category>): commands, then their subcommands."""
        out = []
        for cmd in self.tops:
            if cat in self.categories[cmd.name]:
                out.append(cmd.name)
            out.extend(s for s in self.subs[cmd.name] if cat in self.categories[s])
        return out


# --- selectors and users --------------------------------------------------------------------


class Selector:
    """Commands, key patterns and channel patterns (the root one or a ``(...)`` one)."""

    __slots__ = (
        "allchannels",
        "allkeys",
        "allowed",
        "channels",
        "firstargs",
        "future",
        "patterns",
    )

    def __init__(self) -> None:
        self.allowed: set[str] = set()
        self.future = False  # Redis's reserved bit: set by +@all, the "future commands"
        self.firstargs: dict[str, list[bytes]] = {}
        self.patterns: list[list] = []  # [flags, pattern bytes, compiled glob predicate]
        self.allkeys = False
        self.channels: list[bytes] = []
        self.allchannels = False

    def copy(self) -> Selector:
        other = Selector()
        other.allowed = set(self.allowed)
        other.future = self.future
        other.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        other.patterns = [list(p) for p in self.patterns]
        other.allkeys = self.allkeys
        other.channels = list(self.channels)
        other.allchannels = self.allchannels
        return other

    # --- rules --------------------------------------------------------------------------------
    def apply(self, op: str, universe: Universe) -> None:
        """One selector rule (Redis's ``ACLSetSelector``); raises _RuleError."""
        low = op.lower()
        if low == "allkeys" or op == "~*":
            self.allkeys = True
            self.patterns = []
        elif low == "resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low == "allchannels" or op == "&*":
            self.allchannels = True
            self.channels = []
        elif low == "resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in ("allcommands", "+@all"):
            self.allowed = set(universe.all_names)
            self.future = True
            self.firstargs = {}
        elif low in ("nocommands", "-@all"):
            self.allowed = set()
            self.future = False
            self.firstargs = {}
        elif op[:1] in ("~", "%"):
            self._add_pattern(op)
        elif op[:1] == "&":
            if self.allchannels:
                raise _RuleError(errors.ACL_CHANNEL_AFTER_ALL)
            if _has_space(op[1:]):
                raise _RuleError(errors.ACL_SYNTAX)
            channel = op[1:].encode()
            if channel not in self.channels:
                self.channels.append(channel)
        elif op[:2] in ("+@", "-@"):
            cat = low[2:]
            if cat not in CATEGORIES:
                raise _RuleError(errors.ACL_UNKNOWN_NAME)
            self.apply_category(cat, op[0] == "+", universe)
        elif op[:1] == "+":
            self._allow(op[1:], universe)
        elif op[:1] == "-":
            cmd = universe.lookup(op[1:])
            if cmd is None:
                _not_here(op[1:])
                return
            self.change(cmd, False)
        else:
            raise _RuleError(errors.ACL_SYNTAX)

    def _add_pattern(self, op: str) -> None:
        if self.allkeys:
            raise _RuleError(errors.ACL_KEY_AFTER_ALL)
        if op[0] == "~":
            flags, pattern = ALL_PERMS, op[1:]
        else:
            flags, i = 0, 1
            while i < len(op) and op[i] != "~":
                letter = op[i].upper()
                if letter == "R" and not flags & READ:
                    flags |= READ
                elif letter == "W" and not flags & WRITE:
                    flags |= WRITE
                else:
                    raise _RuleError(errors.ACL_SYNTAX)
                i += 1
            if not flags:
                raise _RuleError(errors.ACL_SYNTAX)
            pattern = op[i + 1:]  # "%R" alone is the empty pattern, as in Redis
        if _has_space(pattern):
            raise _RuleError(errors.ACL_SYNTAX)
        if flags == ALL_PERMS and pattern == "*":
            self.allkeys = True
            self.patterns = []
            return
        raw = pattern.encode()
        for existing in self.patterns:
            if existing[1] == raw:
                existing[0] |= flags
                return
        self.patterns.append([flags, raw, glob.compile(raw)])

    def _allow(self, name: str, universe: Universe) -> None:
        if "|" not in name:
            cmd = universe.lookup(name)
            if cmd is None:
                _not_here(name)
                return
            self.change(cmd, True)
            return
        parent_name, _, sub = name.rpartition("|")
        parent = universe.lookup(parent_name)
        if parent is None:
            _not_here(parent_name)
            return
        if "|" in parent.name:
            raise _RuleError(errors.ACL_FIRSTARG_OF_SUB)
        if not sub:
            raise _RuleError(errors.ACL_SYNTAX)
        if parent.subcommands:
            cmd = universe.lookup(name)
            if cmd is None:
                _not_here(name)
                return
            self.change(cmd, True)
        elif parent.name not in self.allowed:
            # First-arg grant (``+select|0``) for a command without subcommands.
            args = self.firstargs.setdefault(parent.name, [])
            if sub.lower().encode() not in args:
                args.append(sub.lower().encode())

    def change(self, cmd: Command, allow: bool) -> None:
        """Redis's ``ACLChangeSelectorPerm``: a command with its subcommands."""
        names = [cmd.name, *(s.name for s in cmd.subcommands.values())]
        for name in names:
            self.firstargs.pop(name, None)
            if allow:
                self.allowed.add(name)
            else:
                self.allowed.discard(name)

    def apply_category(self, cat: str, allow: bool, universe: Universe) -> None:
        for cmd in universe.tops:
            if cat in universe.categories[cmd.name]:
                self.change(cmd, allow)
            for sub in cmd.subcommands.values():
                if cat in universe.categories[sub.name]:
                    self.change(sub, allow)

    # --- checking -----------------------------------------------------------------------------
    def check(self, cmd: Command, argv: list[bytes], cache: dict) -> tuple[int, int]:
        """(result, argv index of the denied key or channel)."""
        if not cmd.no_auth and cmd.name not in self.allowed:
            allowed_args = self.firstargs.get(cmd.name)
            if len(argv) < 2 or allowed_args is None or argv[1].lower() not in allowed_args:
                return DENIED_CMD, 0
        if not self.allkeys:
            keys = cache.get("keys")
            if keys is None:
                keys = cache["keys"] = command_keys(cmd, argv)
            for index, need in keys:
                if not self.key_allowed(argv[index], need):
                    return DENIED_KEY, index
        if not self.allchannels:
            spec = _CHANNEL_ARGS.get(cmd.name)
            if spec is not None:
                first, single, patterns = spec
                stop = first + 1 if single else len(argv)
                for index in range(first, min(stop, len(argv))):
                    if not self.channel_allowed(argv[index], patterns):
                        return DENIED_CHANNEL, index
        return OK, 0

    def key_allowed(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        for flags, _pattern, matches in self.patterns:
            if flags & need == need and matches(key):
                return True
        return False

    def channel_allowed(self, channel: bytes, literal: bool) -> bool:
        if self.allchannels:
            return True
        for pattern in self.channels:
            if pattern == channel if literal else glob.match(pattern, channel):
                return True
        return False

    # --- describing ---------------------------------------------------------------------------
    def keys_text(self) -> str:
        if self.allkeys:
            return "~*"
        return " ".join(_pattern_text(f, p) for f, p, _m in self.patterns)

    def channels_text(self) -> str:
        if self.allchannels:
            return "&*"
        return " ".join("&" + p.decode("utf-8", "surrogateescape") for p in self.channels)

    def commands_text(self, universe: Universe) -> str:
        """Redis 7.0's ``ACLDescribeSelectorCommandRules`` (best fit, see the module doc)."""
        fake = Selector()
        additive = not self.future
        rules = ["-@all" if additive else "+@all"]
        if not additive:
            fake.apply("+@all", universe)
        temp = Selector()
        temp.allowed = set(self.allowed)
        applied: set[str] = set()
        while True:
            best = None
            min_diff, max_same = 1 << 62, 0
            for cat in CATEGORIES:
                if cat in applied:
                    continue
                members = universe.top_members[cat]
                on = len(members & temp.allowed)
                off = len(members) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < min_diff or (diff == min_diff and same > max_same)):
                    best, min_diff, max_same = cat, diff, same
            if best is None:
                break
            fake.apply_category(best, additive, universe)
            temp.apply_category(best, not additive, universe)
            rules.append(("+@" if additive else "-@") + best)
            applied.add(best)
        for cmd in universe.tops:
            for cmd_ in (cmd, *(universe.by_name[s] for s in universe.subs[cmd.name])):
                mine = cmd_.name in self.allowed
                if mine != (cmd_.name in fake.allowed):
                    rules.append(("+" if mine else "-") + cmd_.name)
                    fake.change(cmd_, mine)
        for name, args in self.firstargs.items():
            rules.extend(f"+{name}|{a.decode('utf-8', 'surrogateescape')}" for a in args)
        return " ".join(rules)

    def describe(self, universe: Universe) -> str:
        """The selector as ACL LIST shows it (Redis's ``ACLDescribeSelector``)."""
        parts = []
        keys = self.keys_text()
        if keys:
            parts.append(keys)
        if self.allchannels:
            parts.append("&*")
        else:
            parts.append("resetchannels")
            if self.channels:
                parts.append(self.channels_text())
        parts.append(self.commands_text(universe))
        return " ".join(parts)

    def unrestricted(self, universe: Universe) -> bool:
        """Allows every command, key and channel: no check can fail."""
        return self.allkeys and self.allchannels and self.allowed >= universe.all_names


def _not_here(name: str) -> None:
    """A rule naming a command ledis does not have: a Redis 7.0 command (``-debug``,
    ``-sort_ro`` from a Redis ACL file) is accepted and changes nothing; any other name is
    Redis's unknown-name error."""
    from ledis.commands.introspection import _load

    if name.lower() not in _load("redis_commands.json"):
        raise _RuleError(errors.ACL_UNKNOWN_NAME)


def _has_space(text: str) -> bool:
    return any(c in " \t\n\r\v\f" for c in text)


def _pattern_text(flags: int, pattern: bytes) -> str:
    text = pattern.decode("utf-8", "surrogateescape")
    if flags == ALL_PERMS:
        return "~" + text
    return ("%R~" if flags == READ else "%W~") + text


def command_keys(cmd: Command, argv: list[bytes]) -> list[tuple[int, int]]:
    """``[(argv index, READ|WRITE needed)]`` of the keys COMMAND GETKEYS finds (Redis's
    ``ACLSelectorCheckKey``: ACCESS needs read; INSERT, DELETE and UPDATE need write; a key
    found by a getkeys procedure without flags needs neither). Commands whose specs are all
    plain ranges or numkeys lists (GET, MSET, HSET, EVAL ...) use a plan computed once; any
    call the plan does not cover (an invalid numkeys, out of bounds, the variable flags of
    SET and BITFIELD) and every other command go through ``getkeys``."""
    try:
        plan = _plans[cmd.name]
    except KeyError:
        plan = _plans[cmd.name] = _range_plan(cmd)
    argc = len(argv)
    if plan is not None:
        out: list[tuple[int, int]] = []
        for first, lastkey, step, need in plan:
            if need < 0:
                break
            if step < 0:  # keynum (EVAL, FCALL, ZUNIONSTORE ...): lastkey is the numkeys index
                if lastkey >= argc - first:
                    break
                numkeys = argv[first + lastkey]
                if not numkeys.isdigit() or len(numkeys) > 9 or (
                        numkeys[0] == 0x30 and len(numkeys) > 1):  # not string2ll's
                    break
                first, step = first + lastkey + 1, -step
                last = first + (int(numkeys) - 1) * step
                if last >= argc or last < first:
                    break
                out.extend([(i, need) for i in range(first, last + 1, step)])
                continue
            last = first + lastkey if lastkey >= 0 else argc + lastkey
            if last >= argc or last < first or first >= argc:
                break
            if last == first:
                out.append((first, need))
            else:
                out.extend([(i, need) for i in range(first, last + 1, step)])
        else:
            return out
    from ledis.commands.introspection import getkeys

    return [(index, _need(flags)) for index, flags in getkeys(cmd, argv)]


_plans: dict[str, list[tuple[int, int, int, int]] | None] = {}


def _need(flags: Iterable[str]) -> int:
    need = 0
    for flag in flags:
        if flag == "access":
            need |= READ
        elif flag in ("insert", "delete", "update"):
            need |= WRITE
    return need


def _range_plan(cmd: Command) -> list[tuple[int, int, int, int]] | None:
    """``[(first, lastkey, step, need)]`` when every key spec is an index + a plain range or
    a numkeys list (then ``step`` is negative and ``lastkey`` the numkeys offset; ``need``
    -1: variable flags, decided per call); None otherwise."""
    from ledis.commands.introspection import key_specs

    plan = []
    for spec in key_specs(cmd):
        if "not_key" in spec.get("flags", ()):
            continue  # SPUBLISH's shard channel: checked as a channel, not as a key
        begin, find = spec["begin_search"], spec["find_keys"]
        if begin["type"] != "index" or find["type"] not in ("range", "keynum"):
            return None
        index = dict(zip(begin["spec"][::2], begin["spec"][1::2], strict=True))["index"]
        fk = dict(zip(find["spec"][::2], find["spec"][1::2], strict=True))
        flags = spec.get("flags", [])
        need = -1 if "variable_flags" in flags else _need(flags)
        if find["type"] == "keynum":
            # (index, numkeys offset, -keystep): keys start right after numkeys (firstkey 1)
            if fk["firstkey"] != 1:
                return None
            plan.append((index, fk["keynumidx"], -(fk["keystep"] or 1), need))
            continue
        if fk["limit"]:
            return None
        plan.append((index, fk["lastkey"], fk["keystep"] or 1, need))
    return plan


class User:
    """One ACL user. ``unrestricted`` is precomputed: the dispatcher's gate reads it."""

    __slots__ = (
        "enabled",
        "name",
        "nopass",
        "passwords",
        "root",
        "sanitize",
        "selectors",
        "unrestricted",
    )

    def __init__(self, name: bytes) -> None:
        self.name = name
        self.enabled = False
        self.nopass = False
        self.passwords: list[str] = []
        self.sanitize = ""  # "", "sanitize-payload" or "skip-sanitize-payload"
        self.root = Selector()
        self.selectors: list[Selector] = []
        self.unrestricted = False

    def copy(self) -> User:
        other = User(self.name)
        other.enabled = self.enabled
        other.nopass = self.nopass
        other.passwords = list(self.passwords)
        other.sanitize = self.sanitize
        other.root = self.root.copy()
        other.selectors = [s.copy() for s in self.selectors]
        other.unrestricted = self.unrestricted
        return other

    def refresh(self, universe: Universe) -> None:
        self.unrestricted = self.root.unrestricted(universe)

    def apply(self, op: str, universe: Universe) -> None:
        """One SETUSER rule (Redis's ``ACLSetUser``); raises _RuleError."""
        low = op.lower()
        if low == "on":
            self.enabled = True
        elif low == "off":
            self.enabled = False
        elif low == "skip-sanitize-payload":
            self.sanitize = "skip-sanitize-payload"
        elif low == "sanitize-payload":
            self.sanitize = "sanitize-payload"
        elif low == "nopass":
            self.nopass = True
            self.passwords = []
        elif low == "resetpass":
            self.nopass = False
            self.passwords = []
        elif op[:1] in (">", "#"):
            digest = hash_password(op[1:].encode("utf-8", "surrogateescape")) \
                if op[0] == ">" else _checked_hash(op[1:])
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.nopass = False
        elif op[:1] in ("<", "!"):
            digest = hash_password(op[1:].encode("utf-8", "surrogateescape")) \
                if op[0] == "<" else _checked_hash(op[1:])
            if digest not in self.passwords:
                raise _RuleError(errors.ACL_NO_SUCH_PASSWORD)
            self.passwords.remove(digest)
        elif op[:1] == "(" and op[-1:] == ")":
            selector = Selector()
            for rule in _split_rules(op[1:-1]):
                selector.apply(rule, universe)
            self.selectors.append(selector)
        elif low == "clearselectors":
            self.selectors = []
        elif low == "reset":
            for rule in ("resetpass", "resetkeys", "resetchannels", "off", "-@all",
                         "clearselectors", "sanitize-payload"):
                self.apply(rule, universe)
        else:
            self.root.apply(op, universe)

    def check_password(self, password: bytes) -> bool:
        if not self.enabled:
            return False
        if self.nopass:
            return True
        digest = hash_password(password)
        return any(hmac.compare_digest(digest, p) for p in self.passwords)

    def check(self, cmd: Command, argv: list[bytes]) -> tuple[int, int]:
        """(result, argv index): OK when any selector allows; else the most relevant
        denial (Redis keeps the highest-numbered reason, and of equal ones the last key or
        channel)."""
        cache: dict = {}
        result, index = self.root.check(cmd, argv, cache)
        if result == OK:
            return OK, 0
        for selector in self.selectors:
            this, at = selector.check(cmd, argv, cache)
            if this == OK:
                return OK, 0
            if this > result or (this == result and at > index):
                result, index = this, at
        return result, index

    def reads_every_key(self, cmd: Command, argv: list[bytes]) -> bool:
        """Redis's ``ACLUserCheckCmdWithUnrestrictedKeyAccess(..., CMD_KEY_ACCESS)``: a
        selector that allows this call and may read any key (``allkeys``, or a ``*`` read
        pattern). SORT's BY and GET patterns need it."""
        if self.unrestricted:
            return True
        cache: dict = {}
        for selector in (self.root, *self.selectors):
            if selector.check(cmd, argv, cache)[0] == OK and (selector.allkeys or any(
                    flags & READ and pattern == b"*" for flags, pattern, _m in selector.patterns)):
                return True
        return False

    def flags(self) -> list[str]:
        out = ["on" if self.enabled else "off"]
        if self.nopass:
            out.append("nopass")
        if self.sanitize:
            out.append(self.sanitize)
        return out

    def describe(self, universe: Universe) -> str:
        """The ACL LIST / ACL file line, without the leading ``user``."""
        parts = [self.name.decode("utf-8", "surrogateescape"), *self.flags()]
        parts.extend("#" + p for p in self.passwords)
        parts.append(self.root.describe(universe))
        parts.extend(f"({s.describe(universe)})" for s in self.selectors)
        return " ".join(parts)


def _checked_hash(text: str) -> str:
    if len(text) != 64 or not set(text) <= _HEX:
        raise _RuleError(errors.ACL_BAD_HASH)
    return text


def _split_rules(text: str) -> list[str]:
    """The rules inside ``(...)``: Redis splits them with ``sdssplitargs`` (quotes work)."""
    try:
        return shlex.split(text, posix=True)
    except ValueError:
        raise _RuleError(errors.ACL_SYNTAX) from None


def merge_selector_args(args: list[str]) -> list[str]:
    """Join ``(`` ... ``)`` arguments into one rule (Redis's ``ACLMergeSelectorArguments``)."""
    merged: list[str] = []
    current: str | None = None
    start = ""
    for op in args:
        if current is None and op[:1] == "(" and op[-1:] != ")":
            current, start = op, op
            continue
        if current is not None:
            current += " " + op
            if op[-1:] == ")":
                merged.append(current)
                current = None
            continue
        merged.append(op)
    if current is not None:
        raise LedisError(errors.ACL_UNMATCHED_PAREN.format(start))
    return merged
