"""ACL: users, their rules, the permission check and the ACL LOG (Redis 7.0 semantics).

**Users.** A :class:`User` has a name, on/off, passwords (kept as sha256 hex digests, as
Redis keeps them: ``>pw`` adds the digest of ``pw``, ``#hex`` adds a digest, ``<pw`` / ``!hex``
remove one, ``nopass`` accepts any password, ``resetpass`` forgets them all) and one or more
:class:`Selector` s: the *root* selector and the ``(...)`` ones. A command is allowed when any
selector allows it (command, every key it names with the access the key spec says, every
channel it publishes or subscribes to).

**Rules.** :meth:`ACL.set_user` applies ``ACL SETUSER``'s rules to a copy of the user and
installs the copy only when every rule parsed, so a bad rule changes nothing (Redis 7.0). The
texts of the errors are Redis's (``ledis.errors``, ACL block).

**Commands and categories.** The command universe is the registry: every command and
subcommand (``config|get``) with the ACL categories it was declared with (``acl="@read @fast"``;
a container without its own declaration is ``@slow``, as in Redis). A selector holds the set of
full names it allows plus Redis's "future commands" bit (set by ``+@all``), and first-arg
grants (``+select|0``) for commands without subcommands.

**Describing a selector** (ACL LIST, GETUSER, SAVE) uses Redis 7.0's best-fit algorithm
(``ACLDescribeSelectorCommandRules``): start from ``+@all`` or ``-@all``, repeatedly apply the
category with the fewest differences that has more in common than different, then fix single
commands. Redis lists the single-command fixes in its hash-table order; ledis in name order.

**The hot path.** A user whose root selector allows everything (all commands, all keys, all
channels) is ``unrestricted``; a context runs the check only when its user is not (the
dispatcher's existing slow-path gate, ``ctx.special``), so the default server (only the
``default`` user, ``+@all ~* &*``) pays nothing per command.
"""

from __future__ import annotations

import itertools
import logging
import os
import time
import weakref
from collections import deque
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from ledis import errors
from ledis.acl_rules import (  # noqa: F401  (CATEGORIES, DENIED_*: part of this module's API)
    CATEGORIES,
    DENIED_AUTH,
    DENIED_CHANNEL,
    DENIED_CMD,
    DENIED_KEY,
    OK,
    REASONS,
    Selector,
    Universe,
    User,
    _RuleError,
    merge_selector_args,
)
from ledis.errors import LedisError

log = logging.getLogger("ledis")

if TYPE_CHECKING:  # pragma: no cover
    from ledis.commands.registry import Command
    from ledis.core import Context, Core


# --- the ACL log --------------------------------------------------------------------------------


class LogEntry:
    __slots__ = ("client_info", "context", "count", "created", "object", "reason", "username")

    def __init__(self, reason: str, context: str, obj: bytes, username: bytes,
                 client_info: str) -> None:
        self.count = 1
        self.reason = reason
        self.context = context
        self.object = obj
        self.username = username
        self.created = time.time()
        self.client_info = client_info


# Entries alike (reason, context, object, user) within this many seconds are grouped (Redis).
_GROUPING_SECONDS = 60.0


# --- the ACL state of a server --------------------------------------------------------------------


class ACL:
    """Users by name, the log, the ACL file. One per :class:`ledis.core.Core`."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self._universe: Universe | None = None
        self.users: dict[bytes, User] = {}
        self.log: deque[LogEntry] = deque()
        self.others: weakref.WeakSet = weakref.WeakSet()
        self.default = self._new_default()
        self.users[b"default"] = self.default
        self.set_requirepass(core.config.requirepass)

    @property
    def universe(self) -> Universe:
        # Built on first use: every command module has registered by then.
        if self._universe is None:
            self._universe = Universe(self.core.commands)
        return self._universe

    def _new_default(self) -> User:
        user = User(b"default")
        user.enabled = True
        user.nopass = True
        user.root.allkeys = user.root.allchannels = True
        user.root.future = True
        user.root.allowed = set(self.universe.all_names)
        user.refresh(self.universe)
        return user

    @property
    def auto_auth(self) -> bool:
        """New clients start authenticated as ``default`` (on, nopass), as in Redis."""
        return self.default.enabled and self.default.nopass

    def set_requirepass(self, password: str) -> None:
        """``requirepass`` is the default user's one password (CONFIG SET included)."""
        user = self.default.copy()
        user.apply("resetpass", self.universe)
        user.apply(">" + password if password else "nopass", self.universe)
        self._install(user)

    # --- users ----------------------------------------------------------------------------
    def set_user(self, name: bytes, rules: Iterable[str]) -> None:
        """ACL SETUSER: apply every rule to a copy, install it when all parsed."""
        rules = merge_selector_args(list(rules))
        existing = self.users.get(name)
        user = existing.copy() if existing is not None else User(name)
        universe = self.universe
        for op in rules:
            try:
                user.apply(op, universe)
            except _RuleError as exc:
                raise LedisError(errors.ACL_SETUSER_MODIFIER.format(op, exc)) from None
        self._install(user)

    def _install(self, user: User) -> None:
        user.refresh(self.universe)
        old = self.users.get(user.name)
        self.users[user.name] = user
        if user.name == b"default":
            self.default = user
        # Clients logged in as this user follow the new rules at once (Redis changes the
        # user in place): rebind them and recompute their slow-path flag.
        if old is not None:
            for ctx in self._clients():
                if ctx.user is old:
                    ctx.user = user
                    refresh_context(ctx)

    def _clients(self) -> list[Context]:
        # Network clients, plus long-lived contexts outside ``core.clients`` (embedded
        # handles opened as a user) that register in ``others``.
        return [*self.core.clients.values(), *self.others]

    def delete_users(self, names: list[bytes]) -> int:
        """ACL DELUSER: the number deleted; their clients are disconnected."""
        if b"default" in names:
            raise LedisError(errors.ACL_DELETE_DEFAULT)
        deleted = 0
        for name in names:
            user = self.users.pop(name, None)
            if user is None:
                continue
            deleted += 1
            self._disconnect(user)
        return deleted

    def _disconnect(self, user: User) -> None:
        from ledis.commands.connection import kill_client

        for ctx in self._clients():
            if ctx.user is user:
                kill_client(ctx)

    def authenticate(self, ctx: Context, username: bytes, password: bytes,
                     command_name: bytes) -> User:
        """AUTH / HELLO AUTH: the user, or WRONGPASS (logged as an ``auth`` entry)."""
        user = self.users.get(username)
        if user is None or not user.check_password(password):
            self.add_log(ctx, DENIED_AUTH, command_name, username)
            raise LedisError(errors.WRONGPASS)
        return user

    # --- checking ---------------------------------------------------------------------------
    def check(self, ctx: Context, user: User, cmd: Command, argv: list[bytes],
              context: str) -> None:
        """Raise the NOPERM (or, in scripts, ERR) error of a denied command, logged."""
        result, index = user.check(cmd, argv)
        if result == OK:
            return
        obj = cmd.name.encode() if result == DENIED_CMD else argv[index]
        self.add_log(ctx, result, obj, user.name, context)
        if context == "lua":
            texts = _SCRIPT_TEXTS
        elif context == "multi" and getattr(ctx.multi, "executing", False):
            texts = _EXEC_TEXTS
        else:
            texts = _TEXTS
        text = texts[result]
        raise LedisError(text.format(cmd.name) if result == DENIED_CMD else text)

    def dry_run(self, user: User, cmd: Command, argv: list[bytes]) -> bytes | None:
        """ACL DRYRUN: None when allowed, else Redis's verbose reason."""
        result, index = user.check(cmd, argv)
        if result == OK:
            return None
        if result == DENIED_CMD:
            return errors.ACL_DRYRUN_CMD.format(cmd.name).encode()
        template = errors.ACL_DRYRUN_KEY if result == DENIED_KEY else errors.ACL_DRYRUN_CHANNEL
        return template.encode() % argv[index]

    # --- log --------------------------------------------------------------------------------
    def add_log(self, ctx: Context, reason: int, obj: bytes, username: bytes,
                context: str | None = None) -> None:
        from ledis.commands.connection import client_line

        if context is None:
            context = "multi" if ctx.multi is not None else "toplevel"
        info = client_line(ctx)
        name = REASONS[reason]
        now = time.time()
        # Redis looks for an entry to group with among the 10 newest only
        for entry in itertools.islice(self.log, 10):
            if (entry.reason == name and entry.context == context and entry.object == obj
                    and entry.username == username
                    and now - entry.created < _GROUPING_SECONDS):
                entry.count += 1
                entry.created = now
                entry.client_info = info
                self.log.remove(entry)
                self.log.appendleft(entry)
                return
        self.log.appendleft(LogEntry(name, context, obj, username, info))
        limit = self.core.config.redis_int("acllog-max-len")
        while len(self.log) > limit:
            self.log.pop()

    # --- the ACL file ---------------------------------------------------------------------
    @property
    def path(self) -> str:
        return self.core.config.redis_text("aclfile")

    def lines(self) -> list[str]:
        universe = self.universe
        return ["user " + u.describe(universe) for _n, u in sorted(self.users.items())]

    def save(self) -> None:
        """ACL SAVE: write the users to ``aclfile`` (a temp file renamed over it)."""
        path = self.path
        if not path:
            raise LedisError(errors.ACL_NO_FILE)
        temp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(temp, "w", encoding="utf-8", errors="surrogateescape") as fh:
                fh.write("".join(line + "\n" for line in self.lines()))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(temp, path)
        except OSError:
            log.exception("ACL SAVE to %s failed", path)
            raise LedisError(errors.ACL_SAVE_FAILED) from None

    def load(self, startup: bool = False) -> None:
        """ACL LOAD (and startup): replace every user by the file's, all or nothing. Users
        missing from the file are gone (their clients disconnected); ``default`` comes back
        as a fresh default when the file does not define it."""
        path = self.path
        if not path:
            raise LedisError(errors.ACL_NO_FILE)
        try:
            with open(path, encoding="utf-8", errors="surrogateescape") as fh:
                text = fh.read()
        except OSError as exc:
            if startup and not os.path.exists(path):
                return
            raise LedisError(errors.ACL_LOAD_OPEN.format(path, exc.strerror or exc)) from None
        users = self.parse_file(text, path)
        if b"default" not in users:
            users[b"default"] = self._new_default()
        old = self.users
        self.users = users
        self.default = users[b"default"]
        for ctx in self._clients():
            current = ctx.user
            if current is None:
                continue
            replacement = users.get(current.name)
            if replacement is None:
                from ledis.commands.connection import kill_client

                kill_client(ctx)
            else:
                ctx.user = replacement
                refresh_context(ctx)
        del old

    def parse_file(self, text: str, path: str) -> dict[bytes, User]:
        """The users of an ACL file; every bad line is reported at once, in Redis's words,
        and nothing changes (Redis's ``ACLLoadFromFile``)."""
        users: dict[bytes, User] = {}
        problems: list[str] = []
        seen: set[bytes] = set()
        universe = self.universe
        for number, raw in enumerate(text.split("\n"), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            words = line.split()
            if words[0] != "user" or len(words) < 2:
                problems.append(f"{path}:{number} should start with user keyword followed by "
                                "the username. ")
                continue
            name = words[1].encode("utf-8", "surrogateescape")
            if name in seen:
                problems.append(f"WARNING: Duplicate user '{words[1]}' found on line "
                                f"{number}. ")
                continue
            seen.add(name)
            user = User(name)
            try:
                for op in merge_selector_args(words[2:]):
                    user.apply(op, universe)
            except _RuleError as exc:
                problems.append(f"{path}:{number}: {exc}. ")
                continue
            except LedisError as exc:
                problems.append(f"{path}:{number}: {exc.text[4:]} ")
                continue
            user.refresh(universe)
            users[name] = user
        if problems:
            raise LedisError("ERR " + "".join(problems) + errors.ACL_LOAD_ABORTED)
        return users


_TEXTS = {
    DENIED_CMD: errors.NOPERM_COMMAND,
    DENIED_KEY: errors.NOPERM_KEY,
    DENIED_CHANNEL: errors.NOPERM_CHANNEL,
}
_SCRIPT_TEXTS = {
    DENIED_CMD: errors.SCRIPT_NOPERM_COMMAND,
    DENIED_KEY: errors.SCRIPT_NOPERM_KEY,
    DENIED_CHANNEL: errors.SCRIPT_NOPERM_CHANNEL,
}
_EXEC_TEXTS = {  # a queued command that EXEC finds no longer allowed
    DENIED_CMD: errors.NOPERM_EXEC_COMMAND,
    DENIED_KEY: errors.NOPERM_EXEC_KEY,
    DENIED_CHANNEL: errors.NOPERM_EXEC_CHANNEL,
}


def refresh_context(ctx: Any) -> None:
    """Recompute ``ctx.special`` after its user changed (AUTH, SETUSER, LOAD)."""
    ctx.refresh_special()
