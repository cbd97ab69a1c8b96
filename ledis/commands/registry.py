"""The command registry: every command is declared once, at its handler.

``@command("hset", arity=-4, flags="write denyoom fast", keys=(1, 1, 1), group="hash",
summary="...")`` records a :class:`Command`. Everything that lists commands is generated from
here: the dispatcher's lookup table, COMMAND / COMMAND DOCS, the HTTP route list, the embedded
API's methods and the Lua ``ledis.*`` functions.

Container commands (CONFIG, CLIENT, OBJECT, SCRIPT ...) are declared with their subcommands
as ``"config|get"``; the container itself is created on first use and dispatches on ``argv[1]``.

Arity follows Redis: a positive arity is the exact number of words including the command name,
a negative one is a minimum.

Documentation has one source per command. A command Redis 7.0 has is documented by Redis's own
COMMAND DOCS reply, shipped as ``ledis/data/redis_command_docs.json``: a declaration may leave
out ``summary``, ``since`` and ``complexity`` and gets them from there; if it spells one out,
it must agree (``tests/test_command_docs.py``). Only ledis's own commands are documented by
their declaration alone.
"""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from ledis.replies import Reply

if TYPE_CHECKING:
    from ledis.core import Context

# Flags Redis 7.0 uses in COMMAND replies, plus ledis's own (none so far).
KNOWN_FLAGS = frozenset(
    """write readonly denyoom module admin pubsub noscript blocking loading stale
    skip_monitor skip_slowlog asking fast no_auth may_replicate no_mandatory_keys
    no_async_loading no_multi movablekeys allow_busy""".split()
)

# A handler gets the calling client's context and the command's words (argv[0] is the name)
# and returns a reply value (ledis/replies.py) or raises a LedisError.
Handler = Callable[["Context", list[bytes]], Reply]
_H = TypeVar("_H", bound=Handler)  # the decorator keeps each handler's own signature
_DOCS_PATH = os.path.join(os.path.dirname(os.path.dirname(__file__)), "data",
                          "redis_command_docs.json")
_reference: dict[str, dict[str, Any]] | None = None
_numbers = itertools.count()  # Command.number


def reference_doc(name: str) -> dict[str, Any] | None:
    """Redis 7.0's COMMAND DOCS entry for ``name`` (``"config|get"`` for a subcommand), or None
    for a command Redis does not have."""
    global _reference
    if _reference is None:
        with open(_DOCS_PATH, encoding="utf-8") as fh:
            _reference = json.load(fh)
    parent, _, sub = name.partition("|")
    doc = _reference.get(parent)
    if not sub or doc is None:
        return doc
    flat = doc.get("subcommands", [])
    for i in range(0, len(flat), 2):
        if flat[i] == name:
            return flat[i + 1]
    return None


def _fill_docs(cmd: Command) -> None:
    """Take what the declaration left out from Redis's docs (see the module docstring)."""
    ref = reference_doc(cmd.name) or {}
    cmd.summary = cmd.summary or ref.get("summary", "")
    cmd.since = cmd.since or ref.get("since", "1.0.0")
    cmd.complexity = cmd.complexity or ref.get("complexity", "")


@dataclass(eq=False, slots=True)
class Command:
    name: str  # lower case; "config|get" for subcommands
    handler: Handler | None
    arity: int
    flags: frozenset[str]
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = ""  # "" = from the reference docs (else 1.0.0)
    complexity: str = ""
    acl_categories: tuple[str, ...] = ()
    subcommands: dict[bytes, Command] = field(default_factory=dict)
    # Precomputed for the dispatcher's hot path.
    is_write: bool = False
    is_readonly: bool = False
    allows_stale: bool = False  # flagged ``stale``: runs on a stale replica
    allows_loading: bool = False  # flagged ``loading``: runs while a full sync loads
    # Redis's CMD_MAY_REPLICATE (PUBLISH, SPUBLISH, PFCOUNT, EVAL, EVALSHA, FCALL): a write for
    # CLIENT PAUSE WRITE and read-only scripts; hidden from COMMAND, as in Redis
    may_replicate: bool = False
    noscript: bool = False
    no_auth: bool = False
    allow_busy: bool = False
    blocking: bool = False
    pubsub: bool = False
    no_multi: bool = False
    skip_slowlog: bool = False
    # Statistics (INFO commandstats): calls, microseconds, rejected, failed.
    calls: int = 0
    usec: float = 0.0
    rejected_calls: int = 0
    failed_calls: int = 0
    # LATENCY HISTOGRAM (latency-tracking): calls per power-of-two bucket of microseconds,
    # index ``int(usec).bit_length()``; None until the command first runs.
    latency_histogram: list[int] | None = None
    # Unique per Command object (a renamed copy gets its own): the index of this command in
    # per-core lists, cheaper than a dict keyed by the command on the dispatcher's path
    # (keyspace triggers' first-byte tables, ledis/scripting/triggers.py).
    number: int = -1

    def __post_init__(self) -> None:
        self.number = next(_numbers)
        self.is_write = "write" in self.flags
        self.is_readonly = "readonly" in self.flags
        self.allows_stale = "stale" in self.flags
        self.allows_loading = "loading" in self.flags
        self.may_replicate = "may_replicate" in self.flags
        self.noscript = "noscript" in self.flags
        self.no_auth = "no_auth" in self.flags
        self.allow_busy = "allow_busy" in self.flags
        self.blocking = "blocking" in self.flags
        self.pubsub = "pubsub" in self.flags
        self.no_multi = "no_multi" in self.flags
        self.skip_slowlog = "skip_slowlog" in self.flags

    @property
    def full_name(self) -> str:
        return self.name

    @property
    def display_name(self) -> str:
        """Name as Redis shows it in errors and stats (``config|get``)."""
        return self.name

    def key_positions(self, argv: list[bytes]) -> list[int]:
        """Indexes of key arguments in ``argv`` (for COMMAND GETKEYS, scripts, WATCH...)."""
        if self.first_key <= 0:
            return []
        last = self.last_key if self.last_key >= 0 else len(argv) + self.last_key
        return list(range(self.first_key, min(last, len(argv) - 1) + 1, self.step or 1))


def own(commands: dict[bytes, Command], name: str) -> Command | None:
    """The command or subcommand (``config|get``) whose own name is ``name`` in a command
    table, renamed or not (``rename_command`` changes only the keys clients send:
    ledis/security.py)."""
    parent_name, _, sub = name.partition("|")
    parent = commands.get(parent_name.encode())
    if parent is None or parent.name != parent_name:
        parent = next((c for c in commands.values() if c.name == parent_name), None)
    if parent is None or not sub:
        return parent
    return parent.subcommands.get(sub.encode())


class Registry:
    """Name -> :class:`Command`. Rejects unknown flags and duplicates at import time."""

    def __init__(self) -> None:
        self.commands: dict[bytes, Command] = {}

    def add(self, cmd: Command) -> Command:
        unknown = cmd.flags - KNOWN_FLAGS
        if unknown:
            raise ValueError(f"command {cmd.name}: unknown flags {sorted(unknown)}")
        _fill_docs(cmd)
        if "|" in cmd.name:
            parent_name, sub = cmd.name.split("|", 1)
            parent = self.commands.get(parent_name.encode())
            if parent is None:
                parent = Command(parent_name, None, -2, frozenset(), group=cmd.group)
                _fill_docs(parent)
                self.commands[parent_name.encode()] = parent
            if sub.encode() in parent.subcommands:
                raise ValueError(f"command {cmd.name} declared twice")
            parent.subcommands[sub.encode()] = cmd
        else:
            key = cmd.name.encode()
            existing = self.commands.get(key)
            if existing is not None and (existing.handler is not None or not existing.subcommands):
                raise ValueError(f"command {cmd.name} declared twice")
            if existing is not None:
                cmd.subcommands = existing.subcommands
            self.commands[key] = cmd
        return cmd

    def lookup(self, name: bytes) -> Command | None:
        return self.commands.get(name.lower())

    def all(self) -> list[Command]:
        """Every top-level command, sorted by name."""
        return [self.commands[k] for k in sorted(self.commands)]


REGISTRY = Registry()


def command(
    name: str,
    *,
    arity: int,
    flags: str = "",
    keys: tuple[int, int, int] = (0, 0, 0),
    group: str = "generic",
    summary: str = "",
    since: str = "",
    complexity: str = "",
    acl: str = "",
) -> Callable[[_H], _H]:
    """Declare a command at its handler. The handler gets ``(ctx, argv)``. ``summary``,
    ``since`` and ``complexity`` left empty come from Redis's docs (module docstring)."""

    def register(fn: _H) -> _H:
        REGISTRY.add(
            Command(
                name=name.lower(),
                handler=fn,
                arity=arity,
                flags=frozenset(flags.split()),
                first_key=keys[0],
                last_key=keys[1],
                step=keys[2],
                group=group,
                summary=summary,
                since=since,
                complexity=complexity,
                acl_categories=tuple(acl.split()),
            )
        )
        return fn

    return register
