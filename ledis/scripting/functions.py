"""Redis 7 Functions: Lua libraries stored in the database (``core.functions``).

A library is the text of a ``#!lua name=<lib>`` chunk whose body calls
``redis.register_function``. This module owns:

* **The VM.** A LuaJIT runtime of its own (Redis keeps FUNCTION and EVAL apart), built with
  the same ``lua/prelude.lua`` as EVAL's and then ``lua/functions_prelude.lua`` (load-time
  environment, ``redis.register_function``, the callback runner). Everything else is shared
  with :class:`ledis.scripting.runtime.Scripting`: the ``redis.call`` bridge and its Context,
  the command checks of scripts (``no-writes``, ``noscript``), the time limit / BUSY /
  FUNCTION KILL machinery (``begin_run`` / ``check`` / ``end_run``).
* **The registry.** ``libraries`` (name -> :class:`Library`, load order) and ``functions``
  (lower-case name -> :class:`Function`: FCALL looks names up case-insensitively).
* **Persistence.** Each library's code is stored in the ``sys`` family under
  ``lib:<name>``, written into the engine's pending batch by the command that changes it, so
  it commits with the iteration's group commit, goes through the write log (replicas get it)
  and survives restarts: :meth:`Functions.startup` reloads every stored library. FLUSHALL
  leaves ``sys`` alone, so libraries are kept, as in Redis.
* **DUMP / RESTORE.** Redis 7.0's payload (RDB FUNCTION2 entries, RDB version, CRC64; see
  :func:`redis_dump`), so dumps move between Redis and ledis both ways. RESTORE also reads
  ledis's first format (``LEDISFN`` | version | ``len(4 BE) | code``... | CRC32).

Every change is prepared first (parse the header, compile, run the body, check name
collisions) and applied only when everything succeeded, so a failed LOAD/RESTORE changes
nothing (REPLACE keeps the old library on error).
"""

from __future__ import annotations

import logging
import re
import struct
import time
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lupa.luajit21 as lj

from ledis import errors
from ledis.commands.args import parse_int
from ledis.errors import LedisError
from ledis.rdb import crc64, encode_length, lzf_decompress
from ledis.replies import Simple
from ledis.resources import LUA_DIR, STDLIB_DIR, stdlib_names
from ledis.scripting.modules import Modules, topological
from ledis.scripting.runtime import HOOK_COUNT, _text, run_reply
from ledis.scripting.timers import Timers, make_timers
from ledis.scripting.triggers import parse as parse_triggers
from ledis.scripting.triggers import sync as sync_triggers
from ledis.storage.layout import SYS

if TYPE_CHECKING:
    from ledis.core import Context, Core

log = logging.getLogger("ledis.functions")

LIB_PREFIX = b"lib:"
LIB_END = b"lib;"
LOAD_TIMEOUT = 0.5  # seconds a library body may run at FUNCTION LOAD (Redis: 500 ms)
DUMP_MAGIC = b"LEDISFN"
DUMP_VERSION = 1
_NAME_RE = re.compile(rb"^[A-Za-z0-9_]+$")
_KILLED = errors.SCRIPT_KILLED
_U32 = struct.Struct(">I")
_FLAG_ORDER = (b"no-writes", b"allow-oom", b"allow-stale", b"no-cluster", b"allow-cross-slot-keys")


@dataclass
class Function:
    name: bytes
    library: Library
    callback: Any
    flags: tuple[bytes, ...]
    description: bytes | None
    no_writes: bool = False


@dataclass
class Library:
    name: bytes
    code: bytes
    functions: dict[bytes, Function] = field(default_factory=dict)  # name -> Function
    # Shared code and timers (ledis/scripting/modules.py, timers.py): the table given to
    # ledis.export, the libraries its body required, its redis.register_timer timers.
    exports: Any = None
    requires: tuple[bytes, ...] = ()
    timers: list[Any] = field(default_factory=list)
    triggers: list = field(default_factory=list)  # keyspace triggers (scripting/triggers.py)


def parse_header(code: bytes) -> bytes:
    """The library name from the ``#!<engine> name=<lib>`` first line (Redis's texts)."""
    if not code.startswith(b"#!"):
        raise LedisError(errors.FUNCTION_MISSING_METADATA)
    nl = code.find(b"\n")
    if nl < 0:
        raise LedisError(errors.FUNCTION_INVALID_METADATA)
    parts = code[:nl].split()
    engine = parts[0][2:]
    if engine.lower() != b"lua":
        raise errors.error(errors.FUNCTION_ENGINE_NOT_FOUND, _text(engine))
    name = None
    for part in parts[1:]:
        if part[:5].lower() != b"name=":
            raise errors.error(errors.FUNCTION_METADATA_VALUE, _text(part))
        if name is not None:
            raise LedisError(errors.FUNCTION_NAME_TWICE)
        name = part[5:]
    if name is None:
        raise LedisError(errors.FUNCTION_NO_LIBRARY_NAME)
    if not _NAME_RE.match(name):
        raise LedisError(errors.FUNCTION_BAD_NAME)
    return name


class Functions:
    """FUNCTION / FCALL state of one server (``core.functions``)."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.lua: Any = None
        self.libraries: dict[bytes, Library] = {}
        self.functions: dict[bytes, Function] = {}
        self._entry: Any = None
        self._loading_since = 0.0
        self._loading = False
        self.running: Function | None = None
        self.running_argv: list[bytes] = []
        self.modules = Modules(self)
        self.timers = Timers(self)

    # --- the VM ------------------------------------------------------------------------------
    def _runtime(self) -> Any:
        if self.lua is None:
            self._create()
        return self.lua

    def _create(self) -> None:
        scripting = self.core.scripting
        scripting._runtime()  # the shared redis.call Context lives there
        lua, api, entry = scripting.new_vm(self._check)
        ours = lua.compile((LUA_DIR / "functions_prelude.lua").read_bytes(),
                           name=b"@ledis_prelude")
        # redis.register_trigger (ledis/scripting/triggers.py); same chunk name, see there
        triggers = lua.compile((LUA_DIR / "triggers.lua").read_bytes(), name=b"@ledis_prelude")
        self._entry = ours(entry, api, triggers())
        self._compile_library = self._entry[b"compile_library"]
        self._load_library = self._entry[b"load_library"]
        self._call = self._entry[b"call"]
        self._last_error_pos = self._entry[b"last_error_pos"]
        self.modules.attach(lua, self._entry)
        self.lua = lua

    def _check(self) -> bool:
        """Count hook: the load timeout while loading, else the shared time limit."""
        if self._loading:
            return time.perf_counter() - self._loading_since > LOAD_TIMEOUT
        return self.core.scripting._check()

    def _after_oom(self) -> None:
        """After the VM hit ``lua_max_memory_mb``: collect, or rebuild it and recompile every
        library from its stored code when the VM is no longer usable."""
        try:
            self.lua.execute(b"collectgarbage() collectgarbage()")
            return
        except lj.LuaError:
            log.warning("functions VM unusable after running out of memory: rebuilding it")
        self.lua = None
        prepared = self.modules.prepare_set([lib.code for lib in self.libraries.values()], {},
                                            tolerant=True)
        self._install({lib.name: lib for lib in prepared})

    def memory_used(self) -> int:
        return 0 if self.lua is None else int(self.lua.get_memory_used() or 0)

    # --- loading -----------------------------------------------------------------------------
    def _compile(self, code: bytes) -> Any:
        """The compiled body of a library whose header is valid."""
        self._runtime()
        nl = code.find(b"\n")
        try:
            fn = self._compile_library(code[nl:])
        except lj.LuaError as exc:
            raise errors.error(errors.FUNCTION_COMPILE, str(exc).split("\n", 1)[0]) from None
        if type(fn) is tuple:
            raise errors.error(errors.FUNCTION_COMPILE, _text(fn[1] or b"?"))
        return fn

    def _prepare(self, code: bytes) -> Library:
        """Parse, compile and run a library body; nothing is registered yet."""
        name = parse_header(code)
        fn = self._compile(code)
        self._loading = True
        self._loading_since = time.perf_counter()
        self.modules.begin()
        try:
            kind, payload, registered, triggers = self._load_library(fn, HOOK_COUNT)
        except lj.LuaError as exc:
            raise errors.error(errors.FUNCTION_REGISTER, "ERR " + str(exc).split("\n", 1)[0]) \
                from None
        finally:
            self._loading = False
        if kind == 5:
            text = _text(payload)
            if text == _KILLED:
                text = "ERR FUNCTION LOAD timeout"
            raise errors.error(errors.FUNCTION_REGISTER, text)
        lib = Library(name, code)
        for i in range(1, len(registered) + 1):
            item = registered[i]
            fname = item[b"name"]
            flags_table = item[b"flags"]
            given = {flags_table[j] for j in range(1, len(flags_table) + 1)}
            flags = tuple(f for f in _FLAG_ORDER if f in given)  # Redis lists them in this order
            func = Function(fname, lib, item[b"callback"], flags, item[b"description"],
                            b"no-writes" in flags)
            lib.functions[fname] = func
        lib.exports, timers = self.modules.collect()
        lib.requires = tuple(self.modules.requires)
        lib.timers = make_timers(name, timers)
        lib.triggers = parse_triggers(name, triggers)
        if not lib.functions and lib.exports is None and not lib.timers and not lib.triggers:
            raise LedisError(errors.FUNCTION_NONE_REGISTERED)
        return lib

    def _install(self, libraries: dict[bytes, Library]) -> None:
        """Make ``libraries`` the registry (names already checked), each library after those
        it requires; its timers replace the old ones."""
        libraries = {name: libraries[name] for name in topological(libraries)}
        self.libraries = libraries
        self.timers.sync(libraries)
        functions: dict[bytes, Function] = {}
        for lib in libraries.values():
            for func in lib.functions.values():
                functions.setdefault(func.name.lower(), func)
        self.functions = functions
        sync_triggers(self.core, libraries)

    def _merge(self, current: dict[bytes, Library], new: list[Library], replace: bool,
               name_taken: str) -> dict[bytes, Library]:
        """``current`` plus ``new`` with Redis's collision rules; raises, changes nothing."""
        merged = dict(current)
        for lib in new:
            if lib.name in merged and not replace:
                raise errors.error(name_taken, _text(lib.name))
            merged[lib.name] = lib
        owners: dict[bytes, bytes] = {}
        fresh = {id(lib) for lib in new}
        ordered = [lib for lib in merged.values() if id(lib) not in fresh] + new
        for lib in ordered:
            for func in lib.functions.values():
                key = func.name.lower()
                if owners.get(key, lib.name) != lib.name:
                    raise errors.error(errors.FUNCTION_EXISTS, _text(func.name))
                owners[key] = lib.name
        return merged

    def load(self, code: bytes, replace: bool) -> bytes:
        """FUNCTION LOAD: returns the library name."""
        name = parse_header(code)
        if name in self.libraries and not replace:
            raise errors.error(errors.FUNCTION_LIBRARY_EXISTS, _text(name))
        # the library, and again every library that requires it (against the new version)
        new = self.modules.with_dependents([code], self.libraries)
        merged = self._merge(self.libraries, new, True, errors.FUNCTION_LIBRARY_EXISTS)
        self._install(merged)
        self.core.engine.put(SYS, LIB_PREFIX + name, code)
        return name

    def load_many(self, codes: list[bytes], replace: bool) -> list[bytes]:
        """LEDIS.FUNCTION LOADMANY: several libraries in one step, in dependency order
        whatever the order given; all load or none. Returns the names in the given order."""
        names = [parse_header(code) for code in codes]
        for name in names:
            if names.count(name) > 1:
                raise errors.error(errors.LIB_LOADMANY_DUPLICATE, _text(name))
            if name in self.libraries and not replace:
                raise errors.error(errors.FUNCTION_LIBRARY_EXISTS, _text(name))
        new = self.modules.with_dependents(codes, self.libraries)
        merged = self._merge(self.libraries, new, True, errors.FUNCTION_LIBRARY_EXISTS)
        self._install(merged)
        for name, code in zip(names, codes, strict=True):
            self.core.engine.put(SYS, LIB_PREFIX + name, code)
        return names

    def delete(self, name: bytes) -> None:
        if name not in self.libraries:
            raise LedisError(errors.FUNCTION_LIBRARY_NOT_FOUND)
        self.modules.check_delete(name)
        libraries = dict(self.libraries)
        del libraries[name]
        self._install(libraries)
        self.core.engine.delete(SYS, LIB_PREFIX + name)
        self.timers.forget(name)

    def flush(self) -> None:
        self.core.engine.delete_range(SYS, LIB_PREFIX, LIB_END, drop_cached=True)
        self.timers.forget(None)
        self._install({})
        self.lua = None  # a fresh VM, as Redis does

    def dump(self) -> bytes:
        """FUNCTION DUMP in Redis 7.0's format (restorable on Redis too)."""
        return redis_dump([lib.code for lib in self.libraries.values()])

    def restore(self, payload: bytes, policy: bytes) -> None:
        codes: Iterable[bytes]
        if payload.startswith(DUMP_MAGIC):
            codes = _parse_dump(payload)
        else:
            codes = iter_redis_dump(payload)
        # Redis loads each library before reading the next (an earlier library's error wins
        # over a malformed later entry): check the header and compile each one as it is read,
        # then prepare them all in dependency order.
        listed = []
        for code in codes:
            parse_header(code)
            self._compile(code)
            listed.append(code)
        codes = listed
        names = [parse_header(code) for code in codes]
        if len(set(names)) != len(names):
            dup = next(n for n in names if names.count(n) > 1)
            raise errors.error(errors.FUNCTION_LIBRARY_EXISTS_RESTORE, _text(dup))
        # in dependency order whatever the payload's order; with REPLACE the libraries that
        # require a replaced one load again against it
        if policy == b"FLUSH":
            new = self.modules.prepare_set(codes, {})
        elif policy == b"REPLACE":
            new = self.modules.with_dependents(codes, self.libraries)
        else:
            new = self.modules.prepare_set(codes, self.libraries)
        if policy == b"FLUSH":
            merged = self._merge({}, new, False, errors.FUNCTION_LIBRARY_EXISTS_RESTORE)
        else:
            merged = self._merge(self.libraries, new, policy == b"REPLACE",
                                 errors.FUNCTION_LIBRARY_EXISTS_RESTORE)
        engine = self.core.engine
        if policy == b"FLUSH":
            engine.delete_range(SYS, LIB_PREFIX, LIB_END, drop_cached=True)
        self._install(merged)
        for lib in new:
            engine.put(SYS, LIB_PREFIX + lib.name, lib.code)

    def startup(self) -> None:
        """Reload every stored library, then auto-load the configured stdlib libraries.
        Never raises: a library that cannot load is logged and left out."""
        try:
            self._startup()
        except Exception:
            log.exception("loading the stored FUNCTION libraries failed")

    def _startup(self) -> None:
        engine = self.core.engine
        libraries: dict[bytes, Library] = {}
        codes = []
        for key, code in list(engine.iterate(SYS, LIB_PREFIX, LIB_END)):
            try:
                parse_header(code)
                codes.append(code)
            except LedisError as exc:
                log.error("stored library %s cannot be loaded: %s", _text(key[4:]), exc.text)
        # dependency order (ledis.require), not the keys' order
        for lib in self.modules.prepare_set(codes, {}, tolerant=True):
            try:
                libraries = self._merge(libraries, [lib], False, errors.FUNCTION_LIBRARY_EXISTS)
            except LedisError as exc:
                log.error("stored library %s cannot be loaded: %s", _text(lib.name), exc.text)
        self._install(libraries)
        config = self.core.config
        if self.core.readonly or getattr(config, "replicaof", ""):
            return  # a replica gets its libraries from the master
        for name in autoload_names(getattr(config, "functions_autoload", "")):
            path = STDLIB_DIR / f"{name}.lua"
            try:
                code = path.read_bytes()
            except OSError:
                log.error("functions_autoload: no stdlib library %r (%s)", name, path)
                continue
            current = self.libraries.get(name.encode())
            if current is not None and current.code == code:
                continue
            try:
                self.load(code, replace=True)
                log.info("functions_autoload: loaded %s", name)
            except LedisError as exc:
                log.error("functions_autoload: %s: %s", name, exc.text)

    # --- running ------------------------------------------------------------------------------
    def fcall(self, caller: Context, argv: list[bytes], readonly: bool) -> Any:
        """FCALL / FCALL_RO name numkeys key... arg..."""
        raw = argv[2]
        try:
            numkeys = parse_int(raw)
        except LedisError:
            raise LedisError(errors.FUNCTION_BAD_NUMKEYS) from None
        if numkeys < 0:
            raise LedisError(errors.NUMKEYS_NEGATIVE)
        if numkeys > len(argv) - 3:
            raise LedisError(errors.NUMKEYS_TOO_BIG)
        func = self.functions.get(argv[1].lower())
        if func is None:
            raise LedisError(errors.FUNCTION_NOT_FOUND)
        if not func.no_writes:
            if readonly:
                raise LedisError(errors.SCRIPT_RO_WRITE_FLAG)
            if self.core.readonly:
                raise LedisError(errors.SCRIPT_READONLY_REPLICA)
        else:
            readonly = True
        scripting = self.core.scripting
        ctx = scripting.ctx
        if ctx is None or self.lua is None:
            scripting._runtime()
            self._runtime()
            ctx = scripting.ctx
        assert ctx is not None  # made by scripting._runtime()
        ctx.db = caller.db
        ctx.db_index = caller.db_index
        ctx.resp = 2
        ctx.script_readonly = readonly
        scripting.script_resp = 2
        limit_ms = self.core.config.lua_time_limit_ms
        self.running = func
        self.running_argv = argv
        scripting.begin_run(caller, func.name, "function")
        try:
            res = self._call(func.callback, HOOK_COUNT if limit_ms else 0, caller.resp == 3,
                             numkeys, *argv[3:])
        except lj.LuaMemoryError:
            self._after_oom()
            raise LedisError(errors.SCRIPT_OOM) from None
        except lj.LuaError as exc:
            log.warning("function %s failed in the runtime: %s", _text(func.name), exc)
            raise LedisError("ERR " + str(exc).split("\n", 1)[0]) from None
        finally:
            scripting.end_run()
            self.running = None
            self.running_argv = []
        return run_reply(res, func.name, self._after_oom, self._last_error_pos)

    def kill(self) -> Any:
        scripting = self.core.scripting
        if not scripting.running or scripting.busy_kind != "function":
            raise LedisError(errors.NOTBUSY)
        if scripting.wrote:
            raise LedisError(errors.UNKILLABLE_WROTE)
        scripting.killed = True
        return Simple(b"OK")


def _parse_dump(payload: bytes) -> list[bytes]:
    bad = LedisError(errors.FUNCTION_DUMP_BAD)
    head = len(DUMP_MAGIC) + 1
    if len(payload) < head + 4 or not payload.startswith(DUMP_MAGIC):
        raise bad
    if payload[len(DUMP_MAGIC)] != DUMP_VERSION:
        raise bad
    body, crc = payload[:-4], payload[-4:]
    if _U32.pack(zlib.crc32(body)) != crc:
        raise bad
    codes = []
    pos = head
    while pos < len(body):
        if pos + 4 > len(body):
            raise bad
        (n,) = _U32.unpack_from(body, pos)
        pos += 4
        if pos + n > len(body):
            raise bad
        codes.append(body[pos:pos + n])
        pos += n
    return codes


def autoload_names(value: Any) -> list[str]:
    """``functions_autoload`` as a list of library names (a list, or a comma/space separated
    string; ``all`` means every file in stdlib/)."""
    if isinstance(value, (list, tuple)):
        words = [str(v) for v in value]
    else:
        words = re.findall(r"[A-Za-z0-9_]+", str(value or ""))
    if words == ["all"]:
        return stdlib_names()
    return words


# --- docs/lua-api.md ---------------------------------------------------------------------------
def lua_api_markdown() -> str:
    """The reference of the ``ledis`` Lua table, generated from the command registry."""
    from ledis.commands.registry import REGISTRY
    from ledis.core import load_commands

    load_commands()
    lines = [
        "# The `ledis` Lua table",
        "",
        "<!-- generated by `python -m ledis.scripting.functions --gen-docs`: do not edit -->",
        "",
        "Every command of the server is a Lua function of the global `ledis` table, in EVAL",
        "scripts and in FUNCTION libraries alike. The table is built from the command registry",
        "(`ledis/commands/registry.py`), so a new command appears in Lua by itself.",
        "",
        "- `ledis.<name>(arg, ...)` is `redis.call('<name>', arg, ...)`: it returns the reply",
        "  converted with Redis's rules and **raises** on an error reply, like `redis.call`.",
        "- `ledis.pcall.<name>(arg, ...)` is `redis.pcall('<name>', arg, ...)`: an error comes",
        "  back as a table `{err = 'ERR ...'}` instead of being raised.",
        "- Names are the lower-case command names; a name that is not a command reads as `nil`.",
        "  Container commands take their subcommand as first argument:",
        "  `ledis.object('encoding', key)`, `ledis.config('get', 'maxmemory')`.",
        "- Commands flagged `noscript` below are refused from Lua, as with `redis.call`, and",
        "  write commands are refused in read-only runs (EVAL_RO, FCALL_RO, `no-writes`).",
        "- Exception: `ledis.fcall(name, {keys}, {args})` / `ledis.fcall_ro(...)` in an EVAL",
        "  script call a FUNCTION library's function directly (docs/timers.md), instead of",
        "  the `noscript` FCALL command.",
        "- Arity follows Redis: a positive number is the exact count of words including the",
        "  command name, a negative one a minimum.",
        "",
        "```lua",
        "ledis.hset(KEYS[1], 'field', ARGV[1])",
        "local members = ledis.zrange(KEYS[2], 0, -1, 'WITHSCORES')",
        "local r = ledis.pcall.incr(KEYS[3])        -- {err='ERR value is not an integer...'}",
        "if r.err then return 0 end",
        "```",
        "",
    ]
    groups: dict[str, list] = {}
    for cmd in REGISTRY.all():
        groups.setdefault(cmd.group, []).append(cmd)
    for group in sorted(groups):
        lines += [f"## {group}", "", "| Lua | arity | flags | summary |", "|---|---|---|---|"]
        for cmd in groups[group]:
            entries = [cmd] if cmd.handler is not None or not cmd.subcommands else []
            entries += [cmd.subcommands[k] for k in sorted(cmd.subcommands)]
            for c in entries:
                if "|" in c.name:
                    parent, sub = c.name.split("|", 1)
                    call = f"`ledis.{parent}('{sub}', ...)`"
                else:
                    call = f"`ledis.{c.name}(...)`"
                flags = " ".join(sorted(c.flags))
                summary = (c.summary or "").replace("|", "\\|")
                lines.append(f"| {call} | {c.arity} | {flags} | {summary} |")
        lines.append("")
    return "\n".join(lines)


def _main(argv: list[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m ledis.scripting.functions")
    parser.add_argument("--gen-docs", action="store_true", help="write docs/lua-api.md")
    # relative to the working directory: run it from the checkout root (an installed package
    # has no docs/ next to it)
    parser.add_argument("--output", default="docs/lua-api.md")
    args = parser.parse_args(argv)
    if not args.gen_docs:
        parser.print_help()
        return 2
    Path(args.output).write_text(lua_api_markdown(), encoding="utf-8")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(_main())


# --- the `ledis functions` command line ------------------------------------------------------
def add_cli_parser(sub: Any) -> None:
    """``ledis functions load NAME...|--all`` and ``ledis functions list`` (against a server)."""
    p = sub.add_parser("functions", help="load stdlib/ FUNCTION libraries into a running server")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=6380)
    p.add_argument("--password", default="")
    fsub = p.add_subparsers(dest="functions_command")
    load = fsub.add_parser("load", help="FUNCTION LOAD REPLACE stdlib/<name>.lua")
    load.add_argument("names", nargs="*", help="library names (files in stdlib/)")
    load.add_argument("--all", action="store_true", help="every library in stdlib/")
    fsub.add_parser("list", help="the stdlib libraries and whether the server has them")
    p.set_defaults(func=_cli)


def _cli(args: Any) -> int:
    import sys

    import redis

    command = getattr(args, "functions_command", None)
    if command not in ("load", "list"):
        print("usage: ledis functions {load NAME...|--all, list}", file=sys.stderr)
        return 2
    client = redis.Redis(host=args.host, port=args.port, password=args.password or None,
                         protocol=2)
    available = stdlib_names()
    if command == "list":
        loaded = {lib[b"library_name"].decode() if isinstance(lib, dict) else
                  dict(zip(lib[::2], lib[1::2], strict=True))[b"library_name"].decode()
                  for lib in client.function_list()}
        for name in available:
            print(f"{name}\t{'loaded' if name in loaded else '-'}")
        return 0
    names = available if args.all else args.names
    if not names:
        print("ledis functions load: give library names or --all", file=sys.stderr)
        return 2
    status = 0
    for name in names:
        path = STDLIB_DIR / f"{name}.lua"
        if not path.exists():
            print(f"{name}: no such library in {STDLIB_DIR} (have: {', '.join(available)})",
                  file=sys.stderr)
            status = 1
            continue
        try:
            client.function_load(path.read_text(encoding="utf-8"), replace=True)
            print(f"{name}: loaded")
        except redis.RedisError as exc:
            print(f"{name}: {exc}", file=sys.stderr)
            status = 1
    return status


# --- Redis 7 DUMP payloads -----------------------------------------------------------------------
# FUNCTION DUMP of Redis 7.0: for each library the RDB opcode FUNCTION2 (0xF5) and the code as
# an RDB string (plain or LZF-compressed), then the RDB version (2 bytes LE) and the CRC64
# (Jones, reflected, as crc64.c) of everything before it (8 bytes LE). ledis writes this format
# (uncompressed strings), so its dumps restore on Redis and Redis's restore on ledis.
RDB_OPCODE_FUNCTION2 = 0xF5
RDB_VERSION = 10  # Redis 7.0


def redis_dump(codes: list[bytes]) -> bytes:
    body = b"".join(bytes((RDB_OPCODE_FUNCTION2,)) + encode_length(len(c)) + c for c in codes)
    body += RDB_VERSION.to_bytes(2, "little")
    return body + crc64(body).to_bytes(8, "little")


def parse_redis_dump(payload: bytes) -> list[bytes]:
    """Library codes of a Redis 7 FUNCTION DUMP payload (FUNCTION_DUMP_BAD when damaged)."""
    return list(iter_redis_dump(payload))


def iter_redis_dump(payload: bytes) -> Iterator[bytes]:
    """Like :func:`parse_redis_dump`, one library at a time: the checksum is checked first,
    a malformed entry raises when reached (Redis loads each library before reading the next,
    so an earlier library's error wins)."""
    bad = LedisError(errors.FUNCTION_DUMP_BAD)
    if len(payload) < 10:
        raise bad
    body, footer = payload[:-10], payload[-10:]
    version = int.from_bytes(footer[:2], "little")
    if version > RDB_VERSION or crc64(payload[:-8]) != int.from_bytes(footer[2:], "little"):
        raise bad
    broken = LedisError(errors.FUNCTION_RESTORE_LOAD)
    pos = 0

    def length() -> tuple[int, bool]:
        nonlocal pos
        first = body[pos]
        kind = first >> 6
        pos += 1
        if kind == 0:
            return first & 0x3F, False
        if kind == 1:
            pos += 1
            return ((first & 0x3F) << 8) | body[pos - 1], False
        if kind == 3:
            return first & 0x3F, True  # an encoded string
        size = 4 if first == 0x80 else 8
        pos += size
        return int.from_bytes(body[pos - size:pos], "big"), False

    while pos < len(body):
        try:
            if body[pos] != RDB_OPCODE_FUNCTION2:
                raise LedisError(errors.FUNCTION_RESTORE_NOT_FUNCTION)
            pos += 1
            n, encoded = length()
            if not encoded:
                code = body[pos:pos + n]
                if len(code) != n:
                    raise broken
                pos += n
            elif n == 3:  # LZF
                clen, _ = length()
                ulen, _ = length()
                code = lzf_decompress(body[pos:pos + clen], ulen)
                pos += clen
            else:
                raise broken
        except (IndexError, ValueError):
            raise broken from None
        yield code
