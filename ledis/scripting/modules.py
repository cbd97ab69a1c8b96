"""Libraries that share code (issue #16): ``ledis.export`` / ``ledis.require``, the dependency
graph between FUNCTION libraries, and ``ledis.fcall`` from EVAL scripts.

``core.functions.modules`` is a :class:`Modules`. It owns:

* **The Lua half.** ``lua/libraries.lua`` runs in the functions VM after
  ``functions_prelude.lua`` and adds ``ledis.export`` / ``ledis.require`` (and
  ``redis.register_timer``, see :mod:`ledis.scripting.timers`) to the library API.
  :meth:`begin` / :meth:`collect` frame every library body run by ``Functions._prepare``.
* **Dependencies.** ``require`` returns the module table another library exported (the same
  Lua table: every library lives in the one functions VM) and records the edge in
  ``Library.requires``. Nothing about dependencies is stored: the graph is rebuilt from the
  libraries' code each time they load.
* **Load order.** :meth:`prepare_set` prepares several libraries in dependency order whatever
  order they come in (startup from ``sys``, a replica's reload, FUNCTION RESTORE,
  LEDIS.FUNCTION LOADMANY): a library whose body requires one of the set that is not ready yet
  fails with ``need`` set; the needed one is prepared first and the body runs again. A cycle
  is an error. Re-running a body is harmless: a library body only registers things.
* **Replacement.** Replacing a library re-prepares every library that requires it (directly
  or not) against the new version; if one of them fails, nothing changes (one atomic step).
  Deleting a required library is refused.
* **ledis.fcall(name, keys, args)** / **ledis.fcall_ro** in EVAL scripts: run a library
  function inside the running script (its time limit, its batch), with the read-only rules
  of FCALL_RO (a read-only script may only call ``no-writes`` functions).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import lupa.luajit21 as lj

from ledis import errors
from ledis.errors import LedisError
from ledis.resources import LUA_DIR
from ledis.scripting.convert import _text, lua_failure, run_reply
from ledis.scripting.runtime import HOOK_COUNT

if TYPE_CHECKING:
    from ledis.core import Core
    from ledis.scripting.functions import Functions, Library

log = logging.getLogger("ledis.functions")

_ERR_TAG = 2


class Modules:
    """Shared code between the libraries of one server (``core.functions.modules``)."""

    def __init__(self, functions: Functions) -> None:
        self.functions = functions
        self._begin: Any = None
        self._collect: Any = None
        # What ``require`` may see while a set of libraries is prepared (None: the registry).
        self.visible: dict[bytes, Library] | None = None
        self.pending: set[bytes] = set()  # names of the set being prepared, not ready yet
        self.need: bytes | None = None  # the pending library the last body asked for
        self.requires: list[bytes] = []
        self.failed_name: bytes | None = None  # the library whose own body failed last

    # --- the Lua half -------------------------------------------------------------------------
    def attach(self, lua: Any, fentry: Any) -> None:
        """Run ``lua/libraries.lua`` in a new functions VM."""
        chunk = lua.compile((LUA_DIR / "libraries.lua").read_bytes(), name=b"@ledis_prelude")
        api = lua.table_from({b"require": self._require})
        ours = chunk(fentry, api)
        self._begin = ours[b"begin"]
        self._collect = ours[b"collect"]

    def begin(self) -> None:
        self.requires = []
        self.need = None
        self._begin()

    def collect(self) -> tuple[Any, list[dict[bytes, Any]]]:
        """The exported table (or None) and the registered timers of the body that just ran."""
        res = self._collect()
        exported, timers = res if type(res) is tuple else (None, res)
        items = []
        if timers is not None:
            for i in range(1, len(timers) + 1):
                t = timers[i]
                items.append({k: t[k] for k in (b"name", b"every", b"cron", b"callback")})
        return exported, items

    def _require(self, name: Any) -> Any:
        if type(name) is not bytes:
            return None, b"ERR ledis.require expects a library name"
        libraries = self.visible if self.visible is not None else self.functions.libraries
        lib = libraries.get(name)
        if lib is None:
            if name in self.pending:
                self.need = name
                return None, errors.LIB_NOT_READY.format(_text(name)).encode()
            return None, errors.LIB_REQUIRE_MISSING.format(_text(name)).encode()
        if lib.exports is None:
            return None, errors.LIB_EXPORTS_NOTHING.format(_text(name)).encode()
        if name not in self.requires:
            self.requires.append(name)
        return lib.exports

    # --- dependency order -----------------------------------------------------------------------
    def prepare_set(self, codes: Iterable[bytes], base: dict[bytes, Library],
                    tolerant: bool = False) -> list[Library]:
        """Prepare ``codes`` (library names unique) in dependency order; ``base``: the
        libraries they may require besides each other (a name in ``codes`` hides its ``base``
        entry). Raises on the first failure, or with ``tolerant`` logs it and leaves that
        library (and what requires it) out."""
        from ledis.scripting.functions import parse_header

        functions = self.functions
        pending: dict[bytes, bytes] = {}
        for code in codes:
            pending[parse_header(code)] = code
        ready = {name: lib for name, lib in base.items() if name not in pending}
        order: list[Library] = []
        failed: set[bytes] = set()

        def ensure(name: bytes, stack: list[bytes]) -> None:
            if name in stack:
                cycle = b" -> ".join(stack[stack.index(name):] + [name])
                self.failed_name = name
                raise errors.error(errors.LIB_CYCLE, _text(cycle))
            stack.append(name)
            try:
                while True:
                    self.visible = ready
                    self.pending = {n for n in pending if n not in ready}
                    self.need = None
                    try:
                        lib = functions._prepare(pending[name])
                        break
                    except LedisError:
                        need = self.need
                        if need is None or need in failed or need not in pending:
                            if self.failed_name is None:
                                self.failed_name = name
                            raise
                        ensure(need, stack)
            finally:
                stack.pop()
                self.visible = None
                self.pending = set()
            ready[name] = lib
            order.append(lib)

        self.failed_name = None
        for name in pending:
            if name in ready or name in failed:
                continue
            try:
                ensure(name, [])
            except LedisError as exc:
                if not tolerant:
                    raise
                failed.add(name)
                log.error("library %s cannot be loaded: %s", _text(name), exc.text)
            self.failed_name = None
        return order

    def with_dependents(self, codes: list[bytes], base: dict[bytes, Library]) -> list[Library]:
        """Prepare ``codes`` replacing libraries of ``base`` plus, again, every library of
        ``base`` that requires one of them (transitively): they must load against the new
        versions. Raises LIB_DEPENDENT_FAILS naming the first dependent that does not."""
        from ledis.scripting.functions import parse_header

        names = {parse_header(code) for code in codes}
        dependents = dependents_of(base, names)
        extra = [base[name].code for name in dependents]
        try:
            return self.prepare_set(list(codes) + extra, base)
        except LedisError as exc:
            failed = self.failed_name
            if failed in dependents:
                required = sorted(set(base[failed].requires) & (names | set(dependents)))
                raise errors.error(errors.LIB_DEPENDENT_FAILS, _text(failed),
                                   _names(required or sorted(names)), exc.text) from None
            raise

    def check_delete(self, name: bytes) -> None:
        """FUNCTION DELETE: refuse while other libraries require ``name``."""
        users = sorted(lib.name for lib in self.functions.libraries.values()
                       if name in lib.requires)
        if users:
            raise errors.error(errors.LIB_REQUIRED_BY, _text(name), _names(users))


def dependents_of(libraries: dict[bytes, Library], names: set[bytes]) -> list[bytes]:
    """Libraries that require one of ``names`` directly or not, not in ``names``; in an order
    where each comes after what it requires."""
    found: set[bytes] = set()
    frontier = set(names)
    while frontier:
        step = {lib.name for lib in libraries.values()
                if lib.name not in names and lib.name not in found
                and frontier & set(lib.requires)}
        found |= step
        frontier = step
    return [name for name in topological(libraries) if name in found]


def topological(libraries: dict[bytes, Library]) -> list[bytes]:
    """Names of ``libraries`` with every library after those it requires (otherwise in the
    given order)."""
    out: list[bytes] = []
    seen: set[bytes] = set()

    def visit(name: bytes) -> None:
        if name in seen or name not in libraries:
            return
        seen.add(name)
        for dep in libraries[name].requires:
            visit(dep)
        out.append(name)

    for name in libraries:
        visit(name)
    return out


_REQUIRE_RE = re.compile(rb"""ledis\.require\s*\(?\s*['"]([A-Za-z0-9_]+)['"]""")


def static_order(codes: dict[bytes, bytes]) -> list[bytes]:
    """Names of ``codes`` (name -> library code) with each after the libraries its code
    requires with a literal ``ledis.require('name')``, found without running it (offline
    dumps, whose records are replayed one FUNCTION LOAD at a time)."""
    out: list[bytes] = []
    seen: set[bytes] = set()

    def visit(name: bytes) -> None:
        if name in seen:
            return
        seen.add(name)
        for dep in _REQUIRE_RE.findall(codes[name]):
            if dep in codes:
                visit(dep)
        out.append(name)

    for name in codes:
        visit(name)
    return out


def _names(names: Iterable[bytes]) -> str:
    return ", ".join(f"'{_text(n)}'" for n in names)


# --- ledis.fcall from EVAL -----------------------------------------------------------------------
def fcall_from_script(core: Core, to_lua: Any, readonly: bool, name: Any, keys: Any,
                      args: Any) -> Any:
    """``ledis.fcall(name, {keys}, {args})`` / ``ledis.fcall_ro`` in an EVAL script: the
    bridge's reply convention (a value, or ``(nil, 2, error text)``)."""
    try:
        value = _fcall(core, readonly, name, keys, args)
    except LedisError as exc:
        return None, _ERR_TAG, exc.text.encode("utf-8", "replace")
    return to_lua(value)


def _words(table: Any) -> list[bytes]:
    if table is None:
        return []
    if lj.lua_type(table) != "table":
        raise LedisError(errors.LIB_FCALL_ARGS)
    out = []
    for i in range(1, len(table) + 1):
        v = table[i]
        t = type(v)
        if t is bytes:
            out.append(v)
        elif t is int:
            out.append(b"%d" % v)
        elif t is float:
            out.append(b"%.17g" % v)
        else:
            raise LedisError(errors.LIB_FCALL_ARGS)
    return out


def _fcall(core: Core, readonly: bool, name: Any, keys: Any, args: Any) -> Any:
    functions = core.functions
    scripting = core.scripting
    if functions.running is not None:
        raise LedisError(errors.LIB_FCALL_NESTED)
    if type(name) is not bytes:
        raise LedisError(errors.LIB_FCALL_ARGS)
    keys_list, args_list = _words(keys), _words(args)
    func = functions.functions.get(name.lower())
    if func is None:
        raise LedisError(errors.FUNCTION_NOT_FOUND)
    ctx = scripting.ctx
    assert ctx is not None  # a script is running, so the runtime exists
    outer_readonly = ctx.script_readonly
    if not func.no_writes and (readonly or outer_readonly):
        raise LedisError(errors.SCRIPT_RO_WRITE_FLAG)
    functions._runtime()
    saved_resp = scripting.script_resp
    ctx.script_readonly = outer_readonly or func.no_writes
    if saved_resp != 2:
        scripting._setresp(2)
    argv = [b"fcall", func.name, b"%d" % len(keys_list), *keys_list, *args_list]
    functions.running = func
    functions.running_argv = argv
    limit_ms = core.config.lua_time_limit_ms
    try:
        res = functions._call(func.callback, HOOK_COUNT if limit_ms else 0, False,
                              len(keys_list), *keys_list, *args_list)
    except lj.LuaError as exc:
        raise lua_failure(exc, functions._after_oom) from None
    finally:
        functions.running = None
        functions.running_argv = []
        ctx.script_readonly = outer_readonly
        if saved_resp != 2:
            scripting._setresp(saved_resp)
    return run_reply(res, func.name, functions._after_oom, functions._last_error_pos)
