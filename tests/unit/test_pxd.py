"""The Cython declaration files (``ledis/**/*.pxd``) agree with the ``.py`` source they type
(issue #19, docs/PERFORMANCE.md "Typed classes").

A ``.pxd`` next to a hot module makes its classes extension types once compiled: an attribute
the class sets but the ``.pxd`` does not declare would raise AttributeError in the compiled
mode only (unless the class keeps a ``__dict__``), and a declared attribute is no longer in
``vars(obj)``. These checks run on the source, so the interpreted suite catches what only the
compiled pass would otherwise show.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from tests.helpers import ROOT

PXDS = sorted((ROOT / "ledis").rglob("*.pxd"))
_CLASS = re.compile(r"^cdef class (\w+)(?:\((\w+)\))?:$")
_ATTRS = re.compile(r"^\s+cdef (?:public |readonly )?(\w+) ([\w, ]+)$")
_CPDEF = re.compile(r"^\s+cpdef (\w+)\(([^)]*)\)$")


@dataclass
class Declared:
    name: str
    base: str | None
    attrs: set[str] = field(default_factory=set)
    cpdefs: dict[str, list[str]] = field(default_factory=dict)
    has_dict: bool = False


def _parse_pxd(path) -> list[Declared]:
    classes: list[Declared] = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if m := _CLASS.match(line):
            classes.append(Declared(m.group(1), m.group(2)))
        elif m := _ATTRS.match(line):
            names = {n.strip() for n in m.group(2).split(",")}
            if "__dict__" in names:
                classes[-1].has_dict = True
            classes[-1].attrs |= names - {"__dict__", "__weakref__"}
        elif m := _CPDEF.match(line):
            classes[-1].cpdefs[m.group(1)] = [a.strip() for a in m.group(2).split(",")]
        else:
            raise AssertionError(f"{path.name}: a line this test does not understand: {line!r}")
    return classes


def _class_def(tree: ast.Module, name: str) -> ast.ClassDef:
    for node in tree.body:
        if isinstance(node, ast.ClassDef) and node.name == name:
            return node
    raise AssertionError(f"class {name} not found")


def _self_assigned(cls: ast.ClassDef) -> set[str]:
    """Names the class's methods assign as ``self.NAME`` (plain, annotated or augmented)."""
    names = set()
    for node in ast.walk(cls):
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
            targets = [node.target]
        for target in targets:
            for sub in ast.walk(target):
                if (isinstance(sub, ast.Attribute) and isinstance(sub.value, ast.Name)
                        and sub.value.id == "self"):
                    names.add(sub.attr)
    return names


def _hot_modules() -> set[str]:
    tree = ast.parse((ROOT / "setup.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "HOT":
            return set(ast.literal_eval(node.value))
    raise AssertionError("setup.py has no HOT list")


def test_there_are_declaration_files():
    names = {p.relative_to(ROOT).as_posix() for p in PXDS}
    assert {"ledis/core.pxd", "ledis/server/connection.pxd"} <= names


def test_each_pxd_types_a_compiled_module():
    hot = _hot_modules()
    for pxd in PXDS:
        assert pxd.with_suffix(".py").relative_to(ROOT).as_posix() in hot, pxd


def test_declared_classes_match_the_source():
    """Every class set-attribute is declared (or the class has a __dict__), every declared
    attribute is set by the class, the class has no base the .pxd does not give it, and each
    cpdef method exists with the same parameters."""
    for pxd in PXDS:
        tree = ast.parse(pxd.with_suffix(".py").read_text())
        for declared in _parse_pxd(pxd):
            cls = _class_def(tree, declared.name)
            bases = [ast.unparse(b) for b in cls.bases]
            assert bases == ([declared.base] if declared.base else []), (declared.name, bases)
            assigned = _self_assigned(cls)
            if not declared.has_dict:
                missing = assigned - declared.attrs
                assert not missing, f"{pxd.name}: {declared.name} sets undeclared {missing}"
            unset = declared.attrs - assigned
            assert not unset, f"{pxd.name}: {declared.name} never sets {unset}"
            methods = {f.name: f for f in cls.body if isinstance(f, ast.FunctionDef)}
            for name, params in declared.cpdefs.items():
                assert name in methods, f"{pxd.name}: cpdef {name} is not a method"
                args = [a.arg for a in methods[name].args.args]
                assert args == params, (name, args, params)


def test_attributes_read_through_the_instance_dict_are_not_declared():
    """A declared attribute is a struct field, not an entry of ``obj.__dict__``: code that
    reads ``core.__dict__.get("x")`` or ``vars(core).get("x")`` would miss it once compiled."""
    declared = {a for pxd in PXDS for c in _parse_pxd(pxd) if c.has_dict for a in c.attrs}
    pattern = re.compile(
        r"""(?:__dict__|vars\([^)]*\))(?:\.(?:get|pop|setdefault))?[(\[]["'](\w+)""")
    read = set()
    for path in (ROOT / "ledis").rglob("*.py"):
        read |= set(pattern.findall(path.read_text()))
    assert read, "the pattern finds nothing: is it still right?"
    assert not (read & declared), read & declared
