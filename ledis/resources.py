"""Where ledis's Lua sources are, and whether a Lua runtime can be built from them.

The Lua half of scripting (``lua/``: the sandbox prelude, the FUNCTION prelude, the pure-Lua
cjson/cmsgpack/struct/prng) and the ready-made FUNCTION libraries (``stdlib/``) live inside the
package (``ledis/lua``, ``ledis/stdlib``) and ship as package data. One layout for a source
checkout, an editable install, a wheel and an sdist means one rule for finding them: next to
this file. Nothing else in ledis computes these paths; code imports ``LUA_DIR`` and
``STDLIB_DIR`` from here.

``check_runtime()`` is the startup self-check: a server whose Lua files are missing (a broken
install) still answers GET/SET but fails every EVAL and FCALL, so it should say so at start
rather than with ``ERR internal error`` later.
"""

from __future__ import annotations

from pathlib import Path

from ledis import errors

PACKAGE_DIR = Path(__file__).resolve().parent
LUA_DIR = PACKAGE_DIR / "lua"
STDLIB_DIR = PACKAGE_DIR / "stdlib"

# The files without which no script runs (the pure-Lua libraries are optional: the runtime
# loads them when present).
REQUIRED_LUA = ("prelude.lua", "functions_prelude.lua")


def stdlib_names(stdlib_dir: Path | None = None) -> list[str]:
    """The names of the stdlib libraries (``lock``, ``queue``...), sorted."""
    return sorted(p.stem for p in (stdlib_dir or STDLIB_DIR).glob("*.lua"))


def runtime_problem(lua_dir: Path | None = None,
                    stdlib_dir: Path | None = None) -> tuple[str, str] | None:
    """None when a Lua runtime can be built, else ``(where, why)``: the directory at fault and
    one line saying what is wrong with it.

    Checks that the required files are readable, that the stdlib holds libraries (else
    ``functions_autoload all`` would load nothing without a word), that lupa's LuaJIT imports,
    and that every required file compiles (a syntax check: nothing is run). Costs about a
    millisecond once lupa is imported, so the server can call it at every start. The
    directories are parameters for tests; the defaults are ``LUA_DIR`` and ``STDLIB_DIR``."""
    where = lua_dir or LUA_DIR
    stdlib = stdlib_dir or STDLIB_DIR
    sources: dict[str, bytes] = {}
    for name in REQUIRED_LUA:
        try:
            sources[name] = (where / name).read_bytes()
        except OSError as exc:
            return str(where), errors.LUA_CANNOT_READ.format(name, exc.strerror or exc)
    if not stdlib_names(stdlib):
        return str(stdlib), errors.LUA_NO_STDLIB
    try:
        import lupa.luajit21 as lj
    except ImportError as exc:
        return str(where), errors.LUA_NO_LUAJIT.format(exc)
    lua = lj.LuaRuntime(encoding=None, register_eval=False, register_builtins=False)
    for name, source in sources.items():
        try:
            lua.compile(source, name=f"@{name}".encode())
        except lj.LuaSyntaxError as exc:
            # lupa with encoding=None carries the message as bytes in args[0]
            raw = exc.args[0] if exc.args else b"syntax error"
            text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)
            message = (text.strip().splitlines() or ["syntax error"])[0]
            return str(where), errors.LUA_DOES_NOT_COMPILE.format(name, message)
    return None


def check_runtime(lua_dir: Path | None = None, stdlib_dir: Path | None = None) -> str | None:
    """None when a Lua runtime can be built, else one line: ``lua runtime (<path>): <why>``.

    For the server's startup: ``ledis: `` in front makes it a startup line
    (``errors.STARTUP_LINE``); ``runtime_problem()`` gives the parts, for
    ``StartupError(errors.STARTUP_LUA, where, why)``."""
    problem = runtime_problem(lua_dir, stdlib_dir)
    if problem is None:
        return None
    return f"{errors.STARTUP_LUA} ({problem[0]}): {problem[1]}"
