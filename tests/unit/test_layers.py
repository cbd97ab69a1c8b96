"""The import layers of ``ledis/`` (docs/architecture.md, "Layers"), checked on the source.

Every module is placed in one layer below; a module may import modules of its own layer or of
a lower one, never of a higher one. Imports are read with ``ast`` from the whole file, so an
import inside a function (the way cycles used to hide) counts like a top-level one; only
imports under ``if TYPE_CHECKING:`` are skipped, since they never run. A new module must be
placed in the map: the test fails for a module it does not know.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

LEDIS = Path(__file__).resolve().parents[2] / "ledis"

# Lowest first. A module matches the longest prefix listed (``ledis.tools.load`` before
# ``ledis.tools``); a package name also covers its ``__init__``.
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    # Pure values and texts, importable by everyone: error texts, reply values and their RESP
    # encoding, inline splitting, config, version strings, glob, Lua resource paths, codecs,
    # glibc's allocator.
    ("leaf", ("ledis.errors", "ledis.replies", "ledis.resp", "ledis.inline", "ledis.config",
              "ledis.config_values", "ledis.version", "ledis.glob", "ledis.resources",
              "ledis.geohash", "ledis.redis_codecs", "ledis.malloc")),
    # Python values on RocksDB; never sees RESP, a client or a command.
    ("storage", ("ledis.storage", "ledis.rdb", "ledis.rdb_stream")),
    # Command handlers and the services they drive (blocking, pub/sub, tracking, ACL, access
    # tracking, SLOWLOG/LATENCY, scripting and functions, offline dumps).
    ("commands", ("ledis.commands", "ledis.blocking", "ledis.pubsub", "ledis.tracking",
                  "ledis.acl", "ledis.acl_rules", "ledis.access", "ledis.slowlog",
                  "ledis.security", "ledis.scripting", "ledis.tools.dump",
                  "ledis.tools.dumpfile", "ledis.tools.check", "ledis.tools.checkpoint",
                  "ledis.tools")),
    # The dispatcher and client contexts.
    ("core", ("ledis.core",)),
    # Sockets and links: the RESP server, HTTP, replication, startup checks, the
    # composition root (ledis/server/compose.py).
    ("server", ("ledis.server", "ledis.http", "ledis.replication", "ledis.startup")),
    # Entry points: the package (ledis.open), the CLI, the embedded API, the online loader.
    ("entry", ("ledis", "ledis.__main__", "ledis.cli", "ledis.embedded", "ledis.tools.load")),
]

_RANK = {prefix: rank for rank, (_, prefixes) in enumerate(LAYERS) for prefix in prefixes}
_NAMES = [name for name, _ in LAYERS]


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for path in root.rglob("*.py"):
        parts = list(path.relative_to(root.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def layer_of(module: str) -> int | None:
    """The rank of ``module``: its longest listed prefix (None: not placed)."""
    parts = module.split(".")
    for n in range(len(parts), 0, -1):
        rank = _RANK.get(".".join(parts[:n]))
        if rank is not None:
            return rank
    return None


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and (
                (isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING")
                or (isinstance(node.test, ast.Attribute) and node.test.attr == "TYPE_CHECKING")):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def imports_of(module: str, path: Path, known: set[str]) -> list[tuple[int, str]]:
    """(line, imported ledis module) of every import in ``path``, function-local ones too."""
    tree = ast.parse(path.read_text(), str(path))
    skip = _type_checking_lines(tree)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and node.lineno in skip:
            continue
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([node.module] if node.module else []))
            for alias in node.names:
                # ``from ledis import errors`` imports the module ledis.errors, not the package
                sub = f"{base}.{alias.name}"
                found.append((node.lineno, sub if sub in known else base))
    return [(line, name) for line, name in found if name == "ledis" or name.startswith("ledis.")]


def violations(root: Path = LEDIS) -> list[str]:
    modules = _modules(root)
    known = set(modules)
    out = []
    for module, path in sorted(modules.items()):
        rank = layer_of(module)
        if rank is None:
            out.append(f"{module}: not placed in LAYERS")
            continue
        for line, target in imports_of(module, path, known):
            while target not in known and "." in target:  # ``import ledis.x.y`` of a name
                target = target.rpartition(".")[0]
            target_rank = layer_of(target)
            if target_rank is not None and target_rank > rank:
                out.append(f"{path.relative_to(root.parent)}:{line}: {module} "
                           f"({_NAMES[rank]}) imports {target} ({_NAMES[target_rank]})")
    return out


def test_every_import_follows_the_layer_order() -> None:
    found = violations()
    assert not found, "imports against the layer order:\n" + "\n".join(found)


def test_core_imports_no_command_module() -> None:
    """The dispatcher knows the registry (the declarations), never a handler's module: what
    commands hook into it is registered by the composition root."""
    modules = _modules(LEDIS)
    names = [name for _, name in imports_of("ledis.core", modules["ledis.core"], set(modules))]
    assert [n for n in names if n.startswith("ledis.commands") and n != "ledis.commands.registry"
            ] == []


def test_storage_sees_no_replies_nor_blocking() -> None:
    modules = _modules(LEDIS)
    for module, path in modules.items():
        if module.startswith("ledis.storage"):
            for line, name in imports_of(module, path, set(modules)):
                assert name not in ("ledis.replies", "ledis.resp", "ledis.blocking"), \
                    f"{module}:{line} imports {name}"


@pytest.mark.parametrize("source, expect", [
    ("from ledis.server.app import Server\n", True),
    ("def f():\n    from ledis.core import Core\n", True),  # function-local counts
    ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ledis.core import Core\n",
     False),
    ("from ledis import errors\nfrom ledis.storage import layout\n", False),
])
def test_checker_sees_upward_imports(tmp_path: Path, source: str, expect: bool) -> None:
    """The checker itself: an upward import from a storage module is found, even inside a
    function; a TYPE_CHECKING import or a downward one is not."""
    pkg = tmp_path / "ledis"
    for sub in ("", "storage", "server", "core"):
        (pkg / sub).mkdir(parents=True, exist_ok=True)
    (pkg / "__init__.py").write_text("")
    for name in ("errors.py", "storage/__init__.py", "storage/layout.py", "storage/x.py",
                 "server/__init__.py", "server/app.py", "core.py"):
        (pkg / name).write_text("")
    (pkg / "core").rmdir()
    (pkg / "storage" / "x.py").write_text(source)
    found = [v for v in violations(pkg) if "ledis.storage.x " in v]
    assert bool(found) is expect, found
