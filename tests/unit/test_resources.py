"""ledis/resources.py: where the Lua files are, and the startup self-check on them."""

from __future__ import annotations

import shutil
from pathlib import Path

import ledis
from ledis import errors
from ledis.resources import (
    LUA_DIR,
    REQUIRED_LUA,
    STDLIB_DIR,
    check_runtime,
    runtime_problem,
    stdlib_names,
)


def test_lua_files_live_in_the_package():
    package = Path(ledis.__file__).resolve().parent
    assert LUA_DIR.parent == package and STDLIB_DIR.parent == package
    for name in REQUIRED_LUA:
        assert (LUA_DIR / name).is_file()
    assert stdlib_names() == sorted(p.stem for p in STDLIB_DIR.iterdir() if p.suffix == ".lua")
    assert "lock" in stdlib_names()


def test_check_runtime_good():
    assert check_runtime() is None
    assert runtime_problem() is None


def test_runtime_problem_parts_make_a_startup_line(tmp_path):
    # what the server's startup turns into StartupError(errors.STARTUP_LUA, where, why)
    where, why = runtime_problem(tmp_path)
    assert where == str(tmp_path) and why.startswith("cannot read prelude.lua: ")
    line = errors.STARTUP_LINE.format(errors.STARTUP_LUA, where, why)
    assert line == f"ledis: {check_runtime(tmp_path)}"


def test_check_runtime_missing_files(tmp_path):
    message = check_runtime(tmp_path)
    assert message is not None and "\n" not in message
    assert message.startswith(f"lua runtime ({tmp_path}): cannot read prelude.lua")


def test_check_runtime_one_file_missing(tmp_path):
    shutil.copy(LUA_DIR / "prelude.lua", tmp_path / "prelude.lua")
    message = check_runtime(tmp_path)
    assert message is not None and "functions_prelude.lua" in message


def test_check_runtime_syntax_error(tmp_path):
    for name in REQUIRED_LUA:
        shutil.copy(LUA_DIR / name, tmp_path / name)
    (tmp_path / "functions_prelude.lua").write_bytes(b"local x = = 1\n")
    message = check_runtime(tmp_path)
    assert message is not None and "\n" not in message
    assert message.startswith(f"lua runtime ({tmp_path}): functions_prelude.lua does not compile")
    assert "unexpected symbol" in message


def test_check_runtime_empty_stdlib(tmp_path):
    message = check_runtime(stdlib_dir=tmp_path)
    assert message == f"lua runtime ({tmp_path}): no stdlib libraries (*.lua) found"
