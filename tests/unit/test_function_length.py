"""No function over 80 lines in the hot modules (``ledis/server``, ``ledis/core.py``,
``ledis/commands``, ``ledis/storage``) unless its docstring says why (issue #18).

A function's length is from its ``def`` line to its last line (docstring and comments
included, decorators not), read with ``ast``; nested functions are measured on their own too.
The reason is a docstring sentence starting "Long because" or "Long on purpose".
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

LEDIS = Path(__file__).resolve().parents[2] / "ledis"
HOT = ("server", "core.py", "commands", "storage")
MAX_LINES = 80
REASON = re.compile(r"\bLong (because|on purpose)\b")


def _hot_files() -> list[Path]:
    files: list[Path] = []
    for name in HOT:
        path = LEDIS / name
        files.extend([path] if path.is_file() else sorted(path.rglob("*.py")))
    return files


def long_functions(source: str, max_lines: int = MAX_LINES) -> list[tuple[str, int, int]]:
    """(name, first line, length) of every function over ``max_lines`` without a reason."""
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        assert node.end_lineno is not None
        length = node.end_lineno - node.lineno + 1
        if length > max_lines and not REASON.search(ast.get_docstring(node) or ""):
            out.append((node.name, node.lineno, length))
    return out


def test_the_hot_modules_are_found():
    files = _hot_files()
    names = {f.relative_to(LEDIS).as_posix() for f in files}
    assert {"core.py", "server/connection.py", "commands/strings.py",
            "storage/engine.py"} <= names


@pytest.mark.parametrize("path", _hot_files(), ids=lambda p: p.relative_to(LEDIS).as_posix())
def test_no_long_function_without_a_reason(path: Path):
    found = long_functions(path.read_text())
    assert not found, (
        f"{path.relative_to(LEDIS)}: functions over {MAX_LINES} lines; split them, or say "
        f"why in the docstring ('Long because ...'): "
        + ", ".join(f"{name} (line {line}, {n} lines)" for name, line, n in found))


def _function(lines: int, doc: str) -> str:
    body = "".join(f"    x{i} = {i}\n" for i in range(lines - 2))
    return f'def f():\n    """{doc}"""\n{body}'


def test_the_check_counts_lines_and_reads_the_reason():
    assert long_functions(_function(80, "Short enough.")) == []
    assert long_functions(_function(81, "No reason.")) == [("f", 1, 81)]
    assert long_functions(_function(81, "Long because it mirrors Redis.")) == []
    nested = "def outer():\n" + "".join("    " + line + "\n"
                                         for line in _function(81, "x").splitlines())
    assert [name for name, _, _ in long_functions(nested)] == ["outer", "f"]
